package mutants

import (
	"errors"
	"os"
	"sync"
	"time"
)

// serialWriteTimeout is how long serialWrites lets one client hold the
// shared write lock.
const serialWriteTimeout = 100 * time.Millisecond

// serialWrites uses the correct per-client outboxes, but every writer takes
// one server-wide lock around its Write (say, to keep the syscall count or a
// shared buffer in check). The author knew a stalled client would then
// freeze everyone, so each Write has a deadline: on a timeout the writer
// lets go of the lock and tries the rest of its batch again.
//
// Bug: slow, not frozen. A stalled client's writer takes the lock again and
// again, and each time holds it for the whole deadline, so every healthy
// client's replies wait up to 100 ms per stalled peer instead of
// microseconds: latency depends on other clients. Memory stays bounded and
// no line is torn or lost; with enough stalled peers, replies miss the
// progress bound as well.
func serialWrites(s *server) {
	var writing sync.Mutex
	s.newSink = func(c *client) sink {
		o := newOutboxFor(c.conn)
		o.send = func(b []byte) error {
			for len(b) > 0 {
				writing.Lock() // shared by every client: the bug
				o.conn.SetWriteDeadline(time.Now().Add(serialWriteTimeout))
				n, err := o.conn.Write(b)
				writing.Unlock()
				b = b[n:]
				if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
					return err
				}
			}
			return nil
		}
		s.goroutine(func() { o.run(s.done) })
		return o
	}
}
