package faultnet

import (
	"context"
	"sync"
)

// DialHold catches the next dial to a Listener and holds it until the test
// lets it go on (Resume) or fail (Fail): a connection attempt the test
// controls, as when a SYN goes unanswered.
type DialHold struct {
	l       *Listener
	mu      sync.Mutex
	arrived chan struct{} // closed when a dial is held
	decided chan struct{} // closed by Resume or Fail
	err     error
	done    bool
}

// HoldDials arms a hold: the next dial to l blocks until the hold's Resume
// or Fail. Arm several holds to catch several dials, in order.
func (l *Listener) HoldDials() *DialHold {
	h := &DialHold{l: l, arrived: make(chan struct{}), decided: make(chan struct{})}
	l.mu.Lock()
	l.holds = append(l.holds, h)
	l.mu.Unlock()
	return h
}

// Wait blocks until a dial is being held, and reports whether one is: false
// if ctx ended first.
func (h *DialHold) Wait(ctx context.Context) bool {
	select {
	case <-h.arrived: // a held dial wins over an ended ctx
		return true
	default:
	}
	select {
	case <-h.arrived:
		return true
	case <-ctx.Done():
		return false
	}
}

// Resume lets the held dial (or the next one, if none arrived yet) go on.
func (h *DialHold) Resume() { h.decide(nil) }

// Fail makes the held dial fail with err (ErrHeld if err is nil).
func (h *DialHold) Fail(err error) {
	if err == nil {
		err = ErrHeld
	}
	h.decide(err)
}

func (h *DialHold) decide(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return
	}
	h.done, h.err = true, err
	close(h.decided)
}

// hold makes a dial wait on the first armed hold, if any.
func (l *Listener) hold(ctx context.Context) error {
	l.mu.Lock()
	if len(l.holds) == 0 {
		l.mu.Unlock()
		return nil
	}
	h := l.holds[0]
	l.holds = l.holds[1:]
	l.mu.Unlock()
	close(h.arrived)
	select {
	case <-h.decided:
		if h.err != nil {
			return opError("dial", nil, l.addr, h.err)
		}
		return nil
	case <-l.done: // the listener closed while the dial was held
		return opError("dial", nil, l.addr, errRefused)
	case <-ctx.Done():
		return opError("dial", nil, l.addr, ctx.Err())
	}
}
