package faultnet

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// effect is what the faults active on one side of a connection add up to.
type effect struct {
	stall    bool          // StallReads / BlockWrites
	trickleN int           // at most trickleN bytes ...
	every    time.Duration // ... per every
	bps      int64         // bandwidth, bytes per second
	lat, jit time.Duration // latency and its jitter (writes only)
	frag     int           // fragment size limit
	fragRand bool          // fragment sizes drawn from 1..frag
}

func (e effect) any() bool { return e != effect{} }

// side is one direction of use of a Conn, its reads or its writes: the
// faults active on it, its deadline, its counters, and the lock and
// condition its callers wait on. For in-memory connections, a Conn's write
// side and its peer's read side share the lock of the stream between them;
// a wrapped connection's sides have their own.
type side struct {
	c    *Conn
	op   string // "read" or "write"
	mu   *sync.Mutex
	cond *sync.Cond

	// slow is set while any fault or schedule is present; wrapped
	// connections skip all of the below while it is clear.
	slow  atomic.Bool
	bytes atomic.Int64 // bytes moved through this side

	// guarded by mu
	deadline  time.Time
	timer     *time.Timer // wakes waiters at timerAt
	timerAt   time.Time
	faults    []stateInj
	fx        effect
	sched     []byteSched
	rnd       *rand.Rand
	nextAt    time.Time // pacing: earliest start of the next chunk
	lastReady time.Time // latency: readiness of the last chunk sent
	blocked   time.Duration
	full      bool // blocked on a full buffer; logged once per episode
}

type stateInj struct {
	inj   *Injection
	shape func(*effect)
}

type byteSched struct {
	at   int64
	inj  *Injection
	fire func()
}

func (s *side) init(c *Conn, op string, mu *sync.Mutex, cond *sync.Cond, seed uint64, stream uint64) {
	s.c, s.op, s.mu, s.cond = c, op, mu, cond
	s.rnd = rand.New(rand.NewPCG(seed, stream))
}

// wake is the timer callback: it lets every waiter re-check its state.
func (s *side) wake() {
	s.mu.Lock()
	s.timerAt = time.Time{}
	s.cond.Broadcast()
	s.mu.Unlock()
}

// expired reports whether the deadline has passed. Caller holds mu.
func (s *side) expired() bool {
	return !s.deadline.IsZero() && !time.Now().Before(s.deadline)
}

// setDeadline sets the deadline and wakes waiters so they re-check it.
func (s *side) setDeadline(t time.Time) {
	s.mu.Lock()
	s.deadline = t
	s.cond.Broadcast()
	s.mu.Unlock()
}

// wait blocks until woken, or until the earlier of until (if not zero) and
// the deadline. Caller holds mu. It returns after any wake-up; callers
// re-check their state in a loop.
func (s *side) wait(until time.Time) {
	if !s.deadline.IsZero() && (until.IsZero() || s.deadline.Before(until)) {
		until = s.deadline
	}
	start := time.Now()
	if !until.IsZero() && (s.timerAt.IsZero() || until.Before(s.timerAt)) {
		s.timerAt = until
		if s.timer == nil {
			s.timer = time.AfterFunc(until.Sub(start), s.wake)
		} else {
			s.timer.Reset(until.Sub(start))
		}
	}
	s.cond.Wait()
	s.blocked += time.Since(start)
}

// gate reports whether a fault holds this side back now: a stall, or
// pacing. Caller holds mu. until is when pacing ends (zero for a stall).
func (s *side) gate() (hold bool, until time.Time) {
	if s.fx.stall {
		return true, time.Time{}
	}
	if !s.nextAt.IsZero() {
		if now := time.Now(); now.Before(s.nextAt) {
			return true, s.nextAt
		}
	}
	return false, time.Time{}
}

// chunk returns how many of limit bytes (limit ≥ 1) may move in one step:
// fragmentation, trickle and bandwidth make steps smaller, and a byte
// schedule cuts a step at its exact offset. Caller holds mu.
func (s *side) chunk(limit int) int {
	k := limit
	fx := &s.fx
	if fx.trickleN > 0 {
		k = min(k, fx.trickleN)
	}
	if fx.bps > 0 {
		k = min(k, int(max(fx.bps/50, 1))) // steps of 20 ms at most
	}
	if fx.frag > 0 {
		f := fx.frag
		if fx.fragRand {
			f = 1 + s.rnd.IntN(fx.frag)
		}
		k = min(k, f)
	}
	if len(s.sched) > 0 {
		if left := s.sched[0].at - s.bytes.Load(); left > 0 && left < int64(k) {
			k = int(left)
		}
	}
	return k
}

// moved accounts for k bytes that went through, sets the pacing for the
// next step, and reports whether a byte schedule is now due. Caller holds mu.
func (s *side) moved(k int) (due bool) {
	total := s.bytes.Add(int64(k))
	if fx := &s.fx; fx.every > 0 || fx.bps > 0 {
		var gap time.Duration
		if fx.every > 0 {
			gap = fx.every
		}
		if fx.bps > 0 {
			gap = max(gap, time.Duration(int64(k)*int64(time.Second)/fx.bps))
		}
		s.nextAt = time.Now().Add(gap)
	}
	return len(s.sched) > 0 && s.sched[0].at <= total
}

// readyAt returns when bytes written now reach the peer under the current
// latency: never before bytes written earlier. Zero if no latency is set.
// Caller holds mu.
func (s *side) readyAt() time.Time {
	if s.fx.lat == 0 && s.fx.jit == 0 {
		return time.Time{}
	}
	d := s.fx.lat
	if j := s.fx.jit; j > 0 {
		d += time.Duration(s.rnd.Int64N(int64(2*j)+1)) - j
	}
	at := time.Now().Add(max(d, 0))
	if at.Before(s.lastReady) {
		at = s.lastReady
	}
	s.lastReady = at
	return at
}

// takeDue removes and returns the byte schedules that are due. Caller holds mu.
func (s *side) takeDue() []byteSched {
	total := s.bytes.Load()
	i := 0
	for i < len(s.sched) && s.sched[i].at <= total {
		i++
	}
	due := slices.Clone(s.sched[:i])
	s.sched = slices.Delete(s.sched, 0, i)
	s.update()
	return due
}

// fireDue runs the due byte schedules. Caller must NOT hold mu.
func (s *side) fireDue() {
	s.mu.Lock()
	due := s.takeDue()
	s.mu.Unlock()
	for _, d := range due {
		d.fire()
	}
}

// addFault adds a state fault and recomputes the effect.
func (s *side) addFault(inj *Injection, shape func(*effect)) {
	s.mu.Lock()
	s.faults = append(s.faults, stateInj{inj, shape})
	s.update()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// removeFault removes inj's state fault, if present, and recomputes.
func (s *side) removeFault(inj *Injection) {
	s.mu.Lock()
	s.faults = slices.DeleteFunc(s.faults, func(f stateInj) bool { return f.inj == inj })
	s.update()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// addSched arms fire to run once n more bytes have moved through this side.
func (s *side) addSched(inj *Injection, n int64, fire func()) {
	s.mu.Lock()
	at := s.bytes.Load() + n
	if n <= 0 {
		s.mu.Unlock()
		fire()
		return
	}
	i, _ := slices.BinarySearchFunc(s.sched, at, func(b byteSched, at int64) int {
		if b.at <= at {
			return -1
		}
		return 1
	})
	s.sched = slices.Insert(s.sched, i, byteSched{at, inj, fire})
	s.update()
	s.mu.Unlock()
}

func (s *side) removeSched(inj *Injection) {
	s.mu.Lock()
	s.sched = slices.DeleteFunc(s.sched, func(b byteSched) bool { return b.inj == inj })
	s.update()
	s.mu.Unlock()
}

// update recomputes the effect of the active faults. Caller holds mu.
func (s *side) update() {
	var fx effect
	for _, f := range s.faults {
		f.shape(&fx)
	}
	if fx.every == 0 && fx.bps == 0 {
		s.nextAt = time.Time{}
	}
	s.fx = fx
	s.slow.Store(fx.any() || len(s.sched) > 0)
}
