package sockdiag

import "time"

// BlockedFor is how long a socket must be seen blocked ([Socket.WriteBlocked])
// with the same send queue, not one more byte acknowledged by the peer, for
// a [StuckWriter] to call its writer stuck. The kernel's test is also true
// for an instant while a fast reader drains a full buffer; a writer held
// that long behind a reader that acknowledged nothing is stuck.
const BlockedFor = 100 * time.Millisecond

// StuckWriter tells a writer stuck on a socket from one held up for a
// moment, from the looks a caller takes at the socket over time: stuck is
// blocked, with the same send queue, for [BlockedFor]. Its zero value is
// ready to use; it is not safe for concurrent use.
type StuckWriter struct {
	since time.Time // when the socket was first seen blocked with queue; zero: not blocked
	queue uint32
}

// Saw records a look at the socket taken at now and reports whether its
// writer is stuck: seen blocked, with the send queue it has now, since at
// least BlockedFor before now. A look that shows the socket not blocked,
// or blocked with another send queue, starts the count again.
func (w *StuckWriter) Saw(s Socket, now time.Time) bool {
	if !s.WriteBlocked() {
		w.since = time.Time{}
		return false
	}
	if w.since.IsZero() || s.SendQueue != w.queue {
		w.since, w.queue = now, s.SendQueue
		return false
	}
	return now.Sub(w.since) >= BlockedFor
}

// Lost records a look that did not find the socket (the lookup failed):
// the count starts again.
func (w *StuckWriter) Lost() { w.since = time.Time{} }
