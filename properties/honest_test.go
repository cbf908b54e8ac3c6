package properties_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	brokers "github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
)

// Servers that never serve must fail every property, with the cause in
// the report: a suite that passed them would be checking nothing.

// neverGreets accepts connections and reads them, but never writes.
func neverGreets(ctx context.Context, ln net.Listener) error {
	return brokers.ServeConns(ctx, ln, func(_ context.Context, c net.Conn) { _, _ = io.Copy(io.Discard, c) })
}

// failsToStart returns an error at once, as a server whose configuration
// is wrong does.
func failsToStart(ctx context.Context, ln net.Listener) error {
	return errors.New("config: no such option \"colour\"")
}

var brokenStarts = map[string]properties.ServeFunc{
	"never-greets":   neverGreets,
	"fails-to-start": failsToStart,
}

// TestBrokenStartChild runs the suite against one of brokenStarts; it runs
// only as a child of TestBrokenStartsFailEverything.
func TestBrokenStartChild(t *testing.T) {
	serve, ok := brokenStarts[os.Getenv("STALLPROOF_BROKEN_START")]
	if !ok {
		t.Skip("runs only as a child of TestBrokenStartsFailEverything")
	}
	properties.Run(t, serve)
}

func TestBrokenStartsFailEverything(t *testing.T) {
	if os.Getenv("STALLPROOF_BROKEN_START") != "" {
		t.Skip("in a child")
	}
	t.Parallel() // children of the test binary: they overlap the other parallel tests
	causes := map[string]string{
		"never-greets":   "was not greeted within",
		"fails-to-start": `Serve returned while its context was live, with error: config: no such option "colour"`,
	}
	failRE := regexp.MustCompile(`(?m)^\s*--- FAIL: TestBrokenStartChild/(\w+)`)
	for name, cause := range causes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
			defer cancel()
			start := time.Now()
			cmd := childTest(ctx, "^TestBrokenStartChild$", "STALLPROOF_BROKEN_START="+name)
			out, err := cmd.CombinedOutput()
			t.Logf("%s: whole Run failed in %.1fs", name, time.Since(start).Seconds())
			if err == nil {
				t.Fatalf("the suite passed a server that %s:\n%s", name, out)
			}
			var failed []string
			for _, m := range failRE.FindAllSubmatch(out, -1) {
				failed = append(failed, string(m[1]))
			}
			for _, p := range []string{"progress", "delivery", "consistency", "isolation", "bounded", "halfclose", "leaks"} {
				if !strings.Contains(strings.Join(failed, " "), p) {
					t.Errorf("property %s did not fail against a server that %s (failed: %v)", p, name, failed)
				}
			}
			if got := strings.Count(string(out), cause); got < 7 {
				t.Errorf("the cause %q appears %d times, want once per property at least:\n%s", cause, got, out)
			}
		})
	}
}
