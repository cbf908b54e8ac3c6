package properties_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/report"
)

// A NATS-like broker (broker_test.go) closes a client whose writes block
// for its write deadline. Declared as Evict(d), that deadline is what
// bounded holds it to, for stalled subscribers and for a client that
// floods requests without reading (both at once), and it is waited out
// once per property, not once per check. A broker that evicts stalled
// subscribers but not the flooder fails on the flooder.

const evictEnv = "STALLPROOF_EVICT_CHILD"

// TestEvictionChild runs the broker as STALLPROOF_EVICT_CHILD says; it
// runs only as a child of TestDeclaredEviction.
func TestEvictionChild(t *testing.T) {
	switch os.Getenv(evictEnv) {
	case "nats":
		// NATS's own limits: a 10 s write deadline, 64 MiB pending.
		b := &broker{writeDeadline: 10 * time.Second, maxPending: 64 << 20}
		properties.Run(t, b.Serve, properties.WithProtocol(brokerProtocol()),
			properties.SlowConsumers(properties.Evict(10*time.Second)),
			properties.HeapPerStalledClient(64<<20))
	case "never":
		// The same broker without a deadline or a pending limit, declaring
		// an eviction it never does.
		b := &broker{}
		properties.Run(t, b.Serve, properties.WithProtocol(brokerProtocol()),
			properties.SlowConsumers(properties.Evict(time.Second)),
			properties.HeapPerStalledClient(64<<20),
			properties.Properties("bounded"), properties.Checks(3))
	case "subs-only":
		// A broker that evicts a stalled subscriber after 3 s, but never a
		// client that publishes without reading its +OKs. (3 s, not 1: a
		// healthy subscriber on a loaded machine may not read for a second.)
		b := &broker{writeDeadline: 3 * time.Second, subsOnly: true}
		properties.Run(t, b.Serve, properties.WithProtocol(brokerProtocol()),
			properties.SlowConsumers(properties.Evict(3*time.Second)),
			properties.HeapPerStalledClient(64<<20),
			properties.Properties("bounded"), properties.Checks(3))
	case "hang":
		// A broker with limits it declares, whose shutdown waits for its
		// clients to leave.
		b := &broker{writeDeadline: time.Second, maxPending: 1 << 20, hangOnShutdown: true}
		properties.Run(t, b.Serve, properties.WithProtocol(brokerProtocol()),
			properties.SlowConsumers(properties.Evict(time.Second)),
			properties.HeapPerStalledClient(1<<20), properties.Checks(5))
	default:
		t.Skip("runs only as a child of TestDeclaredEviction or TestShutdownHang")
	}
}

func TestDeclaredEviction(t *testing.T) {
	if os.Getenv(evictEnv) != "" || os.Getenv(mutantEnv) != "" || os.Getenv(policyEnv) != "" {
		t.Skip("in a child")
	}
	if testing.Short() {
		t.Skip("waits out a 10 s write deadline")
	}
	t.Parallel() // its children mostly wait: let them overlap the other parallel tests
	for _, tc := range []struct {
		child string
		pass  bool
		want  string // in the output of a failure
	}{
		{child: "nats", pass: true},
		{child: "never", want: "was not evicted within"},
		{child: "subs-only", want: "did not close it within"},
	} {
		t.Run(tc.child, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
			defer cancel()
			start := time.Now()
			cmd := childTest(ctx, "^TestEvictionChild$", evictEnv+"="+tc.child)
			out, err := cmd.CombinedOutput()
			t.Logf("%s: %v", tc.child, time.Since(start).Round(time.Millisecond))
			switch {
			case tc.pass && err != nil:
				t.Fatalf("the broker with its declared Evict(10s) failed:\n%s", out)
			case !tc.pass && err == nil:
				t.Fatalf("a broker that never evicts passed its declared Evict(1s):\n%s", out)
			case !tc.pass && !strings.Contains(string(out), tc.want):
				t.Fatalf("a broker that never evicts failed, but not with %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestShutdownHang: a server whose Serve does not return until its clients
// leave fails leaks, which checks shutdowns, and only leaks: every other
// property gets its own verdict. (They close their clients before they
// stop the server, so they do not see this hang; a Serve that hangs even
// then is noted on their verdicts.)
func TestShutdownHang(t *testing.T) {
	if os.Getenv(evictEnv) != "" || os.Getenv(mutantEnv) != "" || os.Getenv(policyEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := childTest(ctx, "^TestEvictionChild$", evictEnv+"=hang")
	out, _ := cmd.CombinedOutput()
	got := map[string]report.Verdict{}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok, err := report.ParseVerdict(line); ok && err == nil {
			got[v.Property] = v
		}
	}
	want := map[string]string{"progress": report.Pass, "delivery": report.Pass, "isolation": report.Pass, "bounded": report.Pass, "leaks": report.Fail}
	for prop, res := range want {
		if got[prop].Result != res {
			t.Errorf("%s: %s, want %s (%s)", prop, got[prop].Result, res, got[prop].Violation)
		}
	}
	if v := got["leaks"]; !strings.Contains(v.Violation, "Serve did not return") {
		t.Errorf("leaks failed with %q, want the hang", v.Violation)
	}
	if t.Failed() {
		t.Logf("the child's output:\n%s", out)
	}
}
