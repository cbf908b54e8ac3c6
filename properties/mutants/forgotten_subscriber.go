package mutants

import (
	"sync/atomic"
	"time"
)

// slowWrite is how long a write may block before forgottenSubscriber
// marks its client slow.
const slowWrite = 100 * time.Millisecond

// forgottenSubscriber has the correct outbox, but a client whose write
// once blocked for longer than slowWrite is marked slow, and a slow
// client's mailbox takes no more tallies.
//
// Bug: the client is dropped silently. Its connection stays open and its
// writer finishes the write that blocked, but nothing new is ever pushed
// to it: a subscriber that stalled for a moment and resumed is stuck on an
// old tally, and is never told. Its requests are still answered, so only
// the delivery property sees it.
func forgottenSubscriber(s *server) {
	s.newSink = func(c *client) sink {
		f := &forgetful{outbox: newOutboxFor(c.conn)}
		f.send = func(b []byte) error {
			start := time.Now()
			_, err := c.conn.Write(b)
			if time.Since(start) > slowWrite {
				f.slow.Store(true)
			}
			return err
		}
		s.goroutine(func() { f.run(s.done) })
		return f
	}
}

// forgetful is an outbox that stops taking tallies once its client was slow.
type forgetful struct {
	*outbox
	slow atomic.Bool
}

func (f *forgetful) push(seq uint64, line []byte) {
	if f.slow.Load() {
		return // the bug: dropped, and never told
	}
	f.outbox.push(seq, line)
}
