package properties

import (
	"context"
	"flag"
	"net"
	"os"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// ServeFunc runs a server on ln until ctx is done, and returns only after
// every goroutine it started has ended. It must not close over state shared
// between calls: Run calls it once per scenario, each time with a fresh
// listener.
type ServeFunc func(ctx context.Context, ln net.Listener) error

// Run checks that the server run by serve keeps the properties of a voting
// server speaking protocol v1, whatever its clients do. It runs one subtest
// per property, each a rapid property test over generated scenarios of
// healthy and faulty clients:
//
//   - progress: every healthy client's request is answered within the bound,
//     and healthy clients keep receiving tallies, whatever the other clients
//     do (stall, trickle, flood, send garbage, reset) and even while Accept
//     fails with EMFILE;
//   - consistency: acknowledged seqs are unique; every tally sums to its
//     seq and counts exactly the acknowledged votes up to it; a client's
//     tallies never go back; at quiescence every healthy client holds the
//     final tally, which counts every acknowledged vote and no more votes
//     than were sent;
//   - isolation: healthy clients' acknowledgement latency with stalled and
//     flooding peers stays within a generous factor of the latency without
//     them, measured in the same check;
//   - bounded: the server's heap does not grow with the tallies it owes
//     stalled clients, and a client that floods requests without reading
//     replies is evicted or pushed back;
//   - halfclose: votes sent before a half-close are answered and counted,
//     followed by a tally and a close; the half-written last line is not
//     counted; a reset loses no acknowledged vote;
//   - leaks: goroutines return to the baseline when clients leave while the
//     server runs; a shutdown with stalled clients ends within the bound and
//     leaves no goroutine of the server behind.
//
// A failure reports the property, the shrunk list of steps, the seed and
// the command to replay it, each client's last lines and the faults fired
// on its connection, and where the server's goroutines were stuck. Every
// wait is bounded, so a frozen server fails within seconds and never hangs
// the test binary.
//
// Run must not be called from parallel tests: the leak checks look at every
// goroutine in the process.
func Run(t *testing.T, serve ServeFunc, opts ...Option) {
	t.Helper()
	cfg := newConfig(opts)
	restore := setChecks(cfg.checks)
	defer restore()
	for _, name := range cfg.props {
		p, ok := properties[name]
		if !ok {
			t.Fatalf("properties: unknown property %q", name)
		}
		if cfg.adapter != nil && !p.generic() {
			t.Run(name, func(t *testing.T) { t.Skipf("%s needs protocol v1; skipped with an Adapter", name) })
			continue
		}
		cfg.start()
		t.Run(name, rapid.MakeCheck(func(rt *rapid.T) {
			check(rt, &cfg, p, serve)
		}))
	}
}

// setChecks sets rapid's number of checks for the duration of Run, unless
// the user gave -rapid.checks.
func setChecks(n int) (restore func()) {
	f := flag.Lookup("rapid.checks")
	if f == nil {
		return func() {}
	}
	explicit := os.Getenv("RAPID_CHECKS") != ""

	flag.Visit(func(g *flag.Flag) { explicit = explicit || g.Name == f.Name })
	if explicit {
		return func() {}
	}
	old := f.Value.String()
	_ = f.Value.Set(strconv.Itoa(n))
	return func() { _ = f.Value.Set(old) }
}
