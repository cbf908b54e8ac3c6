package protocols_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
)

// The broken brokers must fail the suite. Each runs in a child process
// (this test binary, re-executed), so its failures and its stuck
// goroutines fail the child, not this run; the parent asserts that the
// child failed on a liveness property.

const brokenEnv = "STALLPROOF_PROTOCOLS_BROKEN"

// TestBrokenChild runs the suite against the broken broker that
// STALLPROOF_PROTOCOLS_BROKEN names; it is skipped otherwise.
func TestBrokenChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs only as a child of TestBrokenFails")
	}
	for _, b := range brokers {
		if b.name == name {
			properties.Run(t, b.broken, append(brokerPolicy, properties.WithProtocol(b.proto))...)
			return
		}
	}
	t.Fatalf("no broker %q", name)
}

var violatedRE = regexp.MustCompile(`property "(\w+)" violated: `)

// TestBrokenFails: the suite catches each broken broker (it writes to
// subscribers under its lock) on progress, delivery or isolation. The
// children run in parallel: each mostly waits out bounds.
func TestBrokenFails(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in the child")
	}
	t.Parallel() // its children run beside each other and TestSmallMessagesOverTCP's
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBrokenChild$", "-test.v", "-test.count=1", "-rapid.nofailfile", "-rapid.shrinktime=1ms") // which property fails is judged, not what it shrinks to
			cmd.Env = append(os.Environ(), brokenEnv+"="+b.name)
			cmd.WaitDelay = 5 * time.Second
			start := time.Now()
			out, err := cmd.CombinedOutput()
			took := time.Since(start)
			if ctx.Err() != nil {
				t.Fatalf("the child did not finish within 3m:\n%s", out)
			}
			if err == nil {
				t.Fatalf("the suite passed a broker that writes under its lock:\n%s", out)
			}
			m := violatedRE.FindSubmatch(out)
			if m == nil {
				t.Fatalf("the child failed with no property violated:\n%s", out)
			}
			switch string(m[1]) {
			case "progress", "delivery", "isolation":
			default:
				t.Fatalf("first violation of %q, want progress, delivery or isolation:\n%s", m[1], out)
			}
			t.Logf("%s: caught by %s; the child failed after %.1fs", b.name, m[1], took.Seconds())
		})
	}
}
