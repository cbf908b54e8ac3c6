package properties_test

import (
	"os"
	"slices"
	"testing"

	"github.com/stallproof/stallproof/properties/mutants"
)

// TestLoopbackTCPDeepQueue: over loopback TCP (WithTransport(LoopbackTCP)),
// progress's first check is as exact as in memory. The kernel shows when
// the server's Write to a stalled client blocks, and pressure goes on for
// 2,048 pushes past that, so a server whose per-client queue holds 1,024
// tallies with blocking sends fails progress in one check. Before the
// suite looked at the kernel there, pressure pushed two rounds and this
// mutant passed a whole Run of progress, 20 checks.
func TestLoopbackTCPDeepQueue(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	t.Setenv(mutantEnv+"_CHECKS", "1")
	m, ok := mutants.Lookup("deep-blocking-queue")
	if !ok {
		t.Fatal("no mutant deep-blocking-queue")
	}
	failed, detect, _, out := caughtVia(t, m, []string{"progress"}, "tcp")
	if !slices.Contains(failed, "progress") {
		t.Fatalf("deep-blocking-queue over loopback TCP, one check: progress passed (failed: %v):\n%s", failed, tail(out))
	}
	t.Logf("caught by progress in one check, first violation after %s", detect)
}
