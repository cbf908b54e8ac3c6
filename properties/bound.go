package properties

import (
	"sync/atomic"
	"time"
)

// The bound is wall-clock time, and on an overloaded machine (a CI runner
// shared with other jobs) the harness itself can be held off the CPU for a
// while. A stolen second says nothing about the server, so a lag monitor
// measures how late its own ticks run, and every bounded wait is extended
// by the time stolen meanwhile. A frozen server stays frozen however long
// the wait: the extension can only turn a false alarm into a pass.

const lagTick = 10 * time.Millisecond

// lagMonitor accumulates the time its ticks ran late.
type lagMonitor struct {
	stolen atomic.Int64 // nanoseconds
	stop   chan struct{}
	done   chan struct{}
}

func startLagMonitor() *lagMonitor {
	m := &lagMonitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(lagTick)
		defer t.Stop()
		prev := time.Now()
		for {
			select {
			case <-m.stop:
				return
			case now := <-t.C:
				if late := now.Sub(prev) - lagTick; late > lagTick/2 {
					m.stolen.Add(int64(late))
				}
				prev = now
			}
		}
	}()
	return m
}

func (m *lagMonitor) close() {
	close(m.stop)
	<-m.done
}

// boundTimer is one bounded wait: it expires once the bound, plus the time
// stolen from the harness since it started, has passed.
type boundTimer struct {
	start   time.Time
	bound   time.Duration
	lag     *lagMonitor
	stolen0 int64
	t       *time.Timer
	over    atomic.Bool // expired said so: the wait stays over
}

func (e *env) newBound() *boundTimer {
	b := &boundTimer{start: time.Now(), bound: e.bound, lag: e.lag, stolen0: e.lag.stolen.Load()}
	b.t = time.NewTimer(b.bound)
	return b
}

// C fires when the wait may have expired: check expired.
func (b *boundTimer) C() <-chan time.Time { return b.t.C }

// left returns the time left; none once expired has said the wait is
// over, even if time stolen since would extend it: a waiter woken because
// the bound passed must not wait again with no timer left to wake it.
func (b *boundTimer) left() time.Duration {
	if b.over.Load() {
		return 0
	}
	var stolen time.Duration
	if b.lag != nil { // none in the engine's own tests
		stolen = time.Duration(b.lag.stolen.Load() - b.stolen0)
	}
	return b.bound + stolen - time.Since(b.start)
}

// expired reports whether the wait is over; if not, it re-arms C.
func (b *boundTimer) expired() bool {
	left := b.left()
	if left <= 0 {
		b.over.Store(true)
		return true
	}
	b.t.Reset(left)
	return false
}

func (b *boundTimer) stop() { b.t.Stop() }

// boundLeft returns a function that tells the time left of a bound that
// starts now, for a wait that polls rather than waits on a timer: a
// boundTimer's left, with no timer.
func (e *env) boundLeft() func() time.Duration {
	b := &boundTimer{start: time.Now(), bound: e.bound, lag: e.lag}
	if e.lag != nil {
		b.stolen0 = e.lag.stolen.Load()
	}
	return b.left
}
