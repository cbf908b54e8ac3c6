package properties

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties/internal/linger"
	"github.com/stallproof/stallproof/properties/internal/stacks"
	"github.com/stallproof/stallproof/properties/report"
	"github.com/stallproof/stallproof/server"
)

// goleakIDs reads the IDs out of goleak's own error, as the goleak this
// module requires words it: were it worded otherwise, findLeaks would
// report goleak's error as it is (never nothing).
func TestGoleakIDsReadsGoleaksError(t *testing.T) {
	base := goleak.IgnoreCurrent()
	before := stacks.IDs()
	stop := make(chan struct{})
	go func() { <-stop }()
	defer close(stop)
	var id string
	for g := range stacks.IDs() {
		if !before[g] {
			id = g
		}
	}
	if id == "" {
		t.Fatal("the new goroutine is not in the dump")
	}
	err := goleak.Find(base)
	if err == nil {
		t.Fatal("goleak found no leak")
	}
	if ids := goleakIDs(err.Error()); len(ids) != 1 || !ids[id] {
		t.Errorf("goleakIDs = %v, want only %s, from:\n%v", ids, id, err)
	}
	// goleakStacks reads the same goroutine, its starter (this test's
	// goroutine) and its frames.
	gs := goleakStacks(err.Error())
	if len(gs) != 1 {
		t.Fatalf("goleakStacks read %d goroutines, want 1: %+v\nfrom %v", len(gs), gs, err)
	}
	if g := gs[0]; g.ID != id || g.Parent != stacks.SelfID() {
		t.Errorf("goleakStacks read goroutine %s started by %q, want %s started by %s", g.ID, g.Parent, id, stacks.SelfID())
	}
	if text := gs[0].Text; !strings.HasPrefix(text, "goroutine "+id+" [chan receive]:\n") ||
		!strings.Contains(text, "TestGoleakIDsReadsGoleaksError") || strings.HasSuffix(text, "]") {
		t.Errorf("its text is not its block of a dump:\n%s", text)
	}
}

// findLeaks looks at a server's goroutines until the bound runs out, then
// asks goleak, which looks again for a while (goleakRetries) before it
// answers. Each case starts, under a server's label, a goroutine that
// lingers for linger and then, if handOver, starts one that never ends;
// and, beside it, under a client's label, one that never ends, which
// goleak sees and the leak check must not count. A shrink attempt's probe
// bound (probe) asks goleak before the bound runs out, so goleak's first
// answer can predate the hand-over; it must still be found. With workers,
// the server also runs a job from before the check that starts a 30 ms
// worker every 50 ms: goleak's last look may see one, which is no leak.
func TestFindLeaksAtTheBound(t *testing.T) {
	restore, shown := stacks.ShowLabels()
	defer restore()
	if !shown {
		t.Skip("needs goroutine dumps that show profiler labels (Go 1.26)")
	}
	const bound = 300 * time.Millisecond
	cases := []struct {
		name     string
		probe    bool
		linger   time.Duration
		handOver bool
		leak     bool
		workers  bool
		chain    bool // hands over along a chain, every 120 ms, from linger on
	}{
		{"ends within the bound", false, bound / 3, false, false, false, false},
		{"ends soon after the bound", false, bound + 150*time.Millisecond, false, false, false, false},
		{"never ends", false, time.Hour, false, true, false, false},
		{"hands over after the bound", false, bound + 50*time.Millisecond, true, true, false, false},
		{"hands over before the bound", false, bound - 3*time.Millisecond, true, true, false, false},
		{"probe: ends within the bound", true, bound / 3, false, false, false, false},
		{"probe: hands over just after the bound", true, bound + time.Millisecond, true, true, false, false},
		{"probe: hands over at the bound", true, bound, true, true, false, false},
		{"probe: hands over just before the bound", true, bound - time.Millisecond, true, true, false, false},
		{"probe: hands over before the bound", true, bound - 3*time.Millisecond, true, true, false, false},
		{"workers beside, one ends soon after the bound", false, bound + 150*time.Millisecond, false, false, true, false},
		{"probe: workers beside, one ends soon after the bound", true, bound + 150*time.Millisecond, false, false, true, false},
		{"workers beside, one never ends", false, time.Hour, false, true, true, false},
		{"hands over along a chain after the bound", false, bound + 50*time.Millisecond, false, true, false, true},
		{"probe: hands over along a chain after the bound", true, bound + 10*time.Millisecond, false, true, false, true},
	}
	forever := make(chan struct{})
	defer close(forever)
	t.Run("group", func(t *testing.T) {
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				label := fmt.Sprintf("srv#%d", i)
				cfg := &config{side: true, bound: bound}
				if c.probe {
					cfg.bound = 8 * bound
				}
				e := &env{bound: bound, label: label, cfg: cfg}
				if c.workers {
					pprof.Do(context.Background(), pprof.Labels(harness.ServerLabel, label), func(context.Context) {
						linger.Periodic(50*time.Millisecond, 30*time.Millisecond, forever)
					})
				}
				base, ids := goleak.IgnoreCurrent(), stacks.IDs()
				pprof.Do(context.Background(), pprof.Labels(harness.ClientLabel, label), func(context.Context) {
					linger.Forever(forever)
				})
				pprof.Do(context.Background(), pprof.Labels(harness.ServerLabel, label), func(context.Context) {
					if c.chain {
						linger.Chain(c.linger, 120*time.Millisecond, forever)
						return
					}
					linger.Start(c.linger, c.handOver, forever)
				})
				err := findLeaks(e, base, ids)
				if (err != nil) != c.leak {
					t.Errorf("leak reported: %v, want %v (%v)", err != nil, c.leak, err)
				}
			})
		}
	})
}

// A leak report says why some of its goroutines may not be the server's,
// and what to do, only when some may not.
func TestLeakDoubtsSayWhatToDo(t *testing.T) {
	sure := stacks.Goroutine{ID: "1"}
	main := stacks.Goroutine{ID: "2", Doubt: stacks.ByMain}
	ended := stacks.Goroutine{ID: "3", Doubt: stacks.StarterEnded}
	if got := leakDoubts([]stacks.Goroutine{sure}); got != "" {
		t.Errorf("for a goroutine told by its label: %q, want nothing", got)
	}
	for _, tc := range []struct {
		gs   []stacks.Goroutine
		want []string
		not  []string
	}{
		{[]stacks.Goroutine{sure, main}, []string{"TestMain", "IgnoreGoroutines"}, []string{"has ended"}},
		{[]stacks.Goroutine{ended}, []string{"has ended", "IgnoreGoroutines"}, []string{"TestMain"}},
		{[]stacks.Goroutine{main, ended}, []string{"TestMain", "has ended"}, nil},
	} {
		got := leakDoubts(tc.gs)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: %q does not say %q", tc.gs, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%v: %q says %q", tc.gs, got, n)
			}
		}
	}
}

// Side by side, a goroutine labelled as another Serve call's counts if
// that call returned before the check began (a hub it started lazily,
// still at work), not if it returned meanwhile: that is another check's
// server winding down, or leaking, which its own check judges.
func TestLeaksCountServeCallsEndedBeforeTheCheck(t *testing.T) {
	restore, shown := stacks.ShowLabels()
	defer restore()
	if !shown {
		t.Skip("needs goroutine dumps that show profiler labels (Go 1.26)")
	}
	forever := make(chan struct{})
	defer close(forever)
	for _, tc := range []struct {
		name   string
		before bool // the other call returned before the check began
		leak   bool
	}{
		{"ended before the check", true, true},
		{"ended during the check", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config{side: true, bound: 300 * time.Millisecond, run: newRunState()}
			other := "other#" + tc.name
			if tc.before {
				cfg.serveEnds(other)
			}
			e := &env{bound: cfg.bound, label: "mine#" + tc.name, cfg: cfg, start: time.Now()}
			base, ids := goleak.IgnoreCurrent(), stacks.IDs()
			pprof.Do(context.Background(), pprof.Labels(harness.ServerLabel, other), func(context.Context) {
				linger.Forever(forever)
			})
			if !tc.before {
				cfg.serveEnds(other)
			}
			if err := findLeaks(e, base, ids); (err != nil) != tc.leak {
				t.Errorf("leak reported: %v, want %v (%v)", err != nil, tc.leak, err)
			}
		})
	}
}

// TestUnblockedShutdownIsNamed: leaks' last phase shuts the server down
// while its writes to stalled clients are blocked. Over loopback TCP the
// reference, pacing its tallies to one per 100 ms, pushes a stalled
// client less than a kilobyte within the phase's bound, far from filling
// the kernel's buffers before shutdown: the phase was a plain shutdown,
// and the verdict says so. In memory, with the phase's 64-byte buffers,
// the reference's writes block within a few rounds at its default pace,
// and the verdict claims nothing unchecked.
func TestUnblockedShutdownIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name string
		pace time.Duration
		opts []Option
		note bool
	}{
		{"loopback TCP", 100 * time.Millisecond, []Option{WithTransport(LoopbackTCP)}, true},
		{"in memory", server.DefaultBroadcastInterval, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serve := func(ctx context.Context, ln net.Listener) error {
				s, err := server.New(server.Config{DrainTimeout: 100 * time.Millisecond, BroadcastInterval: tc.pace})
				if err != nil {
					return err
				}
				return s.Serve(ctx, ln)
			}
			root := &cliT{name: "T", out: io.Discard}
			root.do(func() { run(root, serve, nil, append(tc.opts, Properties("leaks"), Checks(2))) })
			if len(root.verdicts) != 1 || root.verdicts[0].Result != report.Pass {
				t.Fatalf("verdicts %+v, want leaks PASS", root.verdicts)
			}
			const said = "not checked: " + blockedShutdown
			if got := strings.Contains(root.verdicts[0].Note, said); got != tc.note {
				t.Errorf("leaks note %q: says %q: %v, want %v", root.verdicts[0].Note, said, got, tc.note)
			}
		})
	}
}
