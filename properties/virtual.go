package properties

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stallproof/stallproof/properties/internal/stacks"

	"pgregory.net/rapid"
)

// Virtual time: see "Virtual time" in the package documentation.

// VirtualTime runs each check of Run inside a testing/synctest bubble, so
// that waiting costs no wall time (see "Virtual time" in the package
// documentation). It applies to Run on the in-memory network; the
// isolation property, which compares latencies, always runs in real time.
// If a bubble's clock stands still (a goroutine waits for a lock, or for
// something outside the bubble), the Run goes on in real time and the
// verdict notes say why.
//
// Before the first check, one client is served in real time, unjudged,
// so that whatever the server starts once per process (a package-level
// worker started on first use) starts outside any bubble: a channel made
// in one check's bubble and used from another's makes the Go runtime end
// the test binary, and so does a worker outside the bubbles that sends on
// a channel made inside one. A server that shares such state between
// Serve calls needs RealTime.
//
// The environment variable STALLPROOF_TIME=virtual does the same for every
// Run of the test binary; STALLPROOF_TIME=real, or the option RealTime,
// keeps real time. The options win over the variable.
func VirtualTime() Option {
	return option("VirtualTime()", func(c *config) { c.virtual = true })
}

// RealTime runs every check in real time, whatever STALLPROOF_TIME says:
// for a server that does I/O a bubble cannot hold (files, real sockets,
// cgo), that shares goroutines or channels between Serve calls, or that
// checks times against time.Now: a bubble's clock starts at midnight UTC
// on 2000-01-01, where a TLS certificate or a token is not yet valid.
func RealTime() Option {
	return option("RealTime()", func(c *config) { c.virtual = false })
}

// timeEnv is the environment variable that picks the clock of Run's
// checks: "virtual" or "real".
const timeEnv = "STALLPROOF_TIME"

// virtualFor returns the *testing.T under which property prop's checks
// run in a bubble, or nil if they run in real time.
func (c *config) virtualFor(prop string) *testing.T {
	if !c.bubbles() || c.bubbleT == nil || prop == propIsolation {
		return nil
	}
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	if c.run.liveness[prop] {
		// A failure is shrunk, and replayed by rapid, on the clock it
		// was found on, whatever a property beside it gave up since:
		// rapid tells failures apart by where they panicked, and a
		// failure raised from a bubble panics elsewhere.
		if !c.run.failedInBubble[prop] {
			return nil
		}
		return c.bubbleT
	}
	if c.run.realTimeWhy != "" {
		return nil
	}
	return c.bubbleT
}

// bubbles reports whether VirtualTime applies to this Run: it was asked
// for, and the server serves on Run's in-memory listener.
func (c *config) bubbles() bool {
	return c.virtual && c.target == nil && c.transport == InMemory
}

// warmUp serves one client, in real time, before the Run's first check:
// it connects, makes one request, and the server is shut down. Whatever
// the server starts once per process (a package-level worker started on
// first use) starts then, outside any bubble: a channel made in one
// check's bubble and used from another's makes the Go runtime end the test
// binary. Nothing it sees is judged, or kept: the checks judge.
func (c *config) warmUp(serve ServeFunc) {
	if !c.bubbles() {
		return
	}
	wc := *c
	wc.run = newRunState()
	e := newEnv(nil, &wc, "warm-up", serve)
	defer e.lag.close()
	defer e.shutdown()
	if cl := e.connect(healthy, e.requester()); cl != nil && !e.stuck() {
		e.request(cl, 0)
	}
}

// timeNote is what property under's verdict says of the clock its checks
// ran on, when VirtualTime was asked for.
func (c *config) timeNote(under string) string {
	if !c.virtual {
		return ""
	}
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	n := c.run.bubbled[under]
	switch {
	case under == propIsolation:
		return "real time: isolation compares latencies"
	case c.run.realTimeWhy != "" && n > 0:
		return fmt.Sprintf("virtual time for %d checks, then real time: %s", n, c.run.realTimeWhy)
	case c.run.realTimeWhy != "":
		return "real time: " + c.run.realTimeWhy
	case n > 0:
		return "virtual time"
	}
	return ""
}

// Watchdog timing: a bubble whose clock stood still for stillFor while no
// goroutine in it ran is given up; one whose clock stood still for spinFor
// while goroutines ran without blocking, too.
const (
	watchEvery = 100 * time.Millisecond
	stillFor   = 500 * time.Millisecond
	spinFor    = 30 * time.Second
	// heartbeat is the period, in the bubble's time, of the goroutine that
	// shows the watchdog that the clock moves.
	heartbeat = 50 * time.Millisecond
)

// watch is what the watchdog sees of a bubble: the beats of its clock, its
// id, the check's env once made, and the check's end.
type watch struct {
	beats  atomic.Int64
	bubble atomic.Int64 // as goroutine dumps name it
	env    atomic.Pointer[env]
	// ended: the check's function returned (or panicked: panicked), and
	// only goroutines it left behind keep the bubble open.
	ended    atomic.Bool
	panicked any
}

// checkInBubble runs one check inside a synctest bubble under tt, while
// the calling goroutine (rapid's) watches it. A failure of the check is
// rapid's panic, caught inside the bubble and raised again here.
func checkInBubble(tt *testing.T, t *rapid.T, cfg *config, p property, serve ServeFunc) {
	var w watch
	cfg.run.mu.Lock()
	cfg.run.bubbleBegan[p.name] = time.Since(cfg.run.started[p.name])
	cfg.run.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A check whose goroutines outlive it (the leaks property's
		// business) leaves the bubble deadlocked when it ends: synctest
		// says so with a panic, which is not a verdict.
		defer func() { _ = recover() }()
		synctest.Test(tt, func(*testing.T) {
			defer func() {
				w.panicked = recover() // the check's panic: rapid's way to fail it
				w.ended.Store(true)
			}()
			w.bubble.Store(stacks.OwnBubble())
			stop := make(chan struct{})
			go func() {
				tick := time.NewTicker(heartbeat)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						w.beats.Add(1)
					}
				}
			}()
			defer close(stop)
			runCheck(t, cfg, p, serve, &w)
		})
	}()
	// ended says how the check ended: rapid's panic if it failed.
	ended := func() {
		cfg.noteBubbled(p.name)
		if w.panicked != nil {
			raise(w.panicked)
		}
	}
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	last, since := w.beats.Load(), time.Now()
	for {
		select {
		case <-done:
			ended()
			return
		case <-tick.C:
		}
		if b := w.beats.Load(); b != last {
			last, since = b, time.Now()
			continue
		}
		still := time.Since(since)
		id := w.bubble.Load()
		if still < stillFor || id == 0 {
			continue
		}
		st := bubbleState(id)
		if st.running > 0 && still < spinFor {
			continue // busy, not stuck: the clock moves once it blocks
		}
		if st.running == 0 && len(st.nondurable) == 0 {
			continue // idle this instant: the clock is about to move
		}
		why := st.why(still)
		if w.ended.Load() {
			// The check is over and said what it had to; goroutines it
			// left behind hold the bubble open. They stay there.
			tt.Logf("%s: after the check ended, %s; the goroutines left behind stay parked", p.name, why)
			ended()
			return
		}
		e := w.env.Load()
		if e != nil {
			e.abandoned.Store(true) // should the bubble wake, the check ends quietly
			if _, _, violated := e.firstViolation(); violated {
				// The check saw a violation before its clock stopped (the
				// bound ran out on a durable freeze, say): that verdict
				// stands, from here.
				tt.Logf("%s: %s, after a violation; the check fails with it", p.name, why)
				cfg.noteBubbled(p.name)
				if failed := verdictOf(e, p); failed != nil {
					raise(failed)
				}
				return
			}
		}
		tt.Logf("%s: %s; this check is inconclusive, and %s", p.name, why, cfg.giveUpBubble(p.name, why))
		return
	}
}

// verdictOf runs the verdict of a check whose bubble stopped, from outside
// it, and returns the panic with which it failed the check.
func verdictOf(e *env, p property) (failed any) {
	defer func() { failed = recover() }()
	e.failPath = "watchdog"
	e.verdict(p)
	return nil
}

// raise panics again, in rapid's goroutine, with a panic caught in the
// bubble. rapid tells one failure from another by where it panicked, so
// each kind panics from a line of its own: were rapid's "out of data"
// (a shrink attempt that ran short, which is no failure) raised where a
// failed check is, the shrinker would take it for the failure.
func raise(v any) {
	switch fmt.Sprintf("%T", v) {
	case "rapid.stopTest":
		panic(v) // the check failed
	case "rapid.invalidData":
		panic(v) // rapid ran out of data to draw from
	default:
		panic(v)
	}
}

// noteBubbled counts a check of property under that ran in a bubble.
func (c *config) noteBubbled(under string) {
	c.run.mu.Lock()
	c.run.bubbled[under]++
	c.run.mu.Unlock()
}

// giveUpBubble records a bubble given up while checking property under:
// the check is inconclusive, and the rest of the Run runs in real time;
// but a shrink attempt's, from the next property on: rapid replays the
// shrunk failure at the end, and it must replay on the clock it failed on
// (a given-up attempt counts as a pass, which the shrinker drops).
//
// It returns what happens next, for the log.
func (c *config) giveUpBubble(under, why string) string {
	c.noteInconclusive(under, "virtual time stood still")
	c.noteCheck(under)
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	switch {
	case c.run.realTimeWhy != "":
	case c.run.liveness[under]:
		if c.run.realTimeNext == "" {
			c.run.realTimeNext = why
		}
		return "the Run's next properties run in real time (this one's shrunk failure replays in a bubble)"
	default:
		c.run.realTimeWhy = why
	}
	return "the Run goes on in real time"
}

// stuckBubble is what a goroutine dump says of one bubble.
type stuckBubble struct {
	running    int
	nondurable []stacks.BubbleGoroutine // waiting, but not durably: the clock cannot move
}

// bubbleState reads the goroutines of bubble id from a dump of all
// goroutines.
func bubbleState(id int64) stuckBubble {
	var st stuckBubble
	for _, g := range stacks.Bubble(id) {
		switch {
		case strings.Contains(g.State, "(durable)"):
		case waitsOutside(g.State):
			st.nondurable = append(st.nondurable, g)
		default: // running, or in the runtime's hands (a GC cycle, say)
			st.running++
		}
	}
	return st
}

// waitsOutside reports whether a goroutine with this status waits, not
// durably, for something that no goroutine of the bubble is doing: a lock,
// a channel made outside the bubble, a file or socket. The runtime's own
// waits (for a GC cycle, say) end by themselves.
func waitsOutside(status string) bool {
	switch status {
	case "chan send", "chan receive", "select", "IO wait", "semacquire":
		return true
	}
	return strings.HasPrefix(status, "sync.")
}

// why says why the bubble was given up.
func (s stuckBubble) why(still time.Duration) string {
	if len(s.nondurable) == 0 {
		return fmt.Sprintf("virtual time stood still for %v of real time while %d goroutines ran without blocking", still.Round(time.Second), s.running)
	}
	g := s.nondurable[0]
	for _, h := range s.nondurable {
		if strings.HasPrefix(h.State, "sync.") {
			g = h // a lock: the usual cause
			break
		}
	}
	what := "waits for something outside the bubble"
	if strings.HasPrefix(g.State, "sync.Mutex") || strings.HasPrefix(g.State, "sync.RWMutex") {
		what = "waits for a lock, which a bubble's clock cannot see past (its holder may be frozen, or sleeping)"
	}
	return fmt.Sprintf("virtual time stood still for %v of real time: goroutine %s %s: [%s] in %s (%d goroutines so waiting)",
		still.Round(100*time.Millisecond), g.ID, what, g.State, g.Func, len(s.nondurable))
}
