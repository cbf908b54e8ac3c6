package faultnet

import (
	"fmt"
	"sync"
	"time"
)

// schedule delays a fault until a trigger: bytes moved, time passed, or a
// Trigger fired by the test.
type schedule struct {
	desc  string
	inner Fault
	// arm sets fire to run when the trigger comes, or reports that it has
	// come already (now).
	arm func(c *Conn, inj *Injection, fire func()) (cancel func(), now bool)
}

func (s schedule) String() string { return s.desc }

func (s schedule) on(c *Conn, inj *Injection) {
	fire := func() {
		inj.mu.Lock()
		defer inj.mu.Unlock()
		if inj.removed {
			return
		}
		c.log.add(EventFire, s.inner.String(), -1)
		s.inner.on(c, inj)
		inj.fired = true
	}
	cancel, now := s.arm(c, inj, fire)
	if now { // inj.mu is held already
		c.log.add(EventFire, s.inner.String(), -1)
		s.inner.on(c, inj)
		inj.fired = true
	}
	if cancel != nil {
		inj.cancels = append(inj.cancels, cancel)
	}
}

func (s schedule) off(c *Conn, inj *Injection) { s.inner.off(c, inj) }

func afterBytes(desc string, read bool, n int64, f Fault) Fault {
	return schedule{desc, f, func(c *Conn, inj *Injection, fire func()) (func(), bool) {
		s := &c.wr
		if read {
			s = &c.rd
		}
		if n <= 0 {
			return nil, true
		}
		s.addSched(inj, n, fire)
		return func() { s.removeSched(inj) }, false
	}}
}

// AfterRead injects f once this end has read n more bytes, counted from the
// moment of injection. The Read that reaches the n-th byte stops exactly
// there, and f takes effect before the next one.
func AfterRead(n int64, f Fault) Fault {
	return afterBytes(fmt.Sprintf("AfterRead(%d, %v)", n, f), true, n, f)
}

// AfterWritten injects f once this end has written n more bytes, counted from
// the moment of injection. A Write spanning the n-th byte is cut there: f
// takes effect, then the Write goes on under it. AfterWritten(n, HalfCloseWrite())
// is a data limit: the peer reads exactly n bytes, then io.EOF. With Reset()
// the Write stops at exactly n bytes too, but, as in TCP, the reset may
// discard those the peer has not read yet.
func AfterWritten(n int64, f Fault) Fault {
	return afterBytes(fmt.Sprintf("AfterWritten(%d, %v)", n, f), false, n, f)
}

// AfterTime injects f once d has passed since injection (on the fake clock,
// inside a testing/synctest bubble).
func AfterTime(d time.Duration, f Fault) Fault {
	return schedule{fmt.Sprintf("AfterTime(%v, %v)", d, f), f, func(_ *Conn, _ *Injection, fire func()) (func(), bool) {
		t := time.AfterFunc(d, fire)
		return func() { t.Stop() }, false
	}}
}

// OnTrigger injects f when the test calls t.Fire (at once if it already has).
func OnTrigger(t *Trigger, f Fault) Fault {
	return schedule{fmt.Sprintf("OnTrigger(%v, %v)", t, f), f, func(_ *Conn, _ *Injection, fire func()) (func(), bool) {
		return nil, !t.add(fire) // fire checks for removal itself
	}}
}

// A Trigger is an event the test controls, for OnTrigger: "stall the reader
// when the tenth vote is acknowledged".
type Trigger struct {
	name  string
	mu    sync.Mutex
	fired bool
	fns   []func()
}

// NewTrigger returns an unfired trigger with a name for printing.
func NewTrigger(name string) *Trigger { return &Trigger{name: name} }

// String returns the trigger's name.
func (t *Trigger) String() string { return t.name }

// Fire fires the trigger: every fault scheduled on it takes effect, in the
// order they were injected, before Fire returns. Firing twice does nothing.
func (t *Trigger) Fire() {
	t.mu.Lock()
	if t.fired {
		t.mu.Unlock()
		return
	}
	t.fired = true
	fns := t.fns
	t.fns = nil
	t.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// add arms fire, or reports false if the trigger has fired already.
func (t *Trigger) add(fire func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fired {
		return false
	}
	t.fns = append(t.fns, fire)
	return true
}
