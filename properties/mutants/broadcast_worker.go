package mutants

import "github.com/stallproof/stallproof/wire"

// broadcastWorker is the seed's "fix" for lockAcrossWrite: the vote path no
// longer writes; it sends the new tally to one broadcast worker goroutine,
// which writes it to every client in turn. TALLY replies go through the same
// worker, so each client still gets its tallies in seq order.
//
// Bug: the buffered channel is sent to while the tally lock is held, and the
// worker writes to the clients one after another. When one client stalls,
// the worker blocks in its Write, the channel fills, the next vote blocks in
// the send holding the lock, and the server freezes as before, only a
// channel's worth of votes later.
func broadcastWorker(s *server) {
	work := make(chan broadcast, 64)
	enqueue := func(b broadcast) {
		select {
		case work <- b: // blocks, under the tally lock, once work is full: the bug
		case <-s.done:
		}
	}
	s.newSink = func(c *client) sink {
		d := &direct{conn: c.conn}
		return &viaWorker{direct: d, enqueue: enqueue, done: s.done}
	}
	s.vote = func(c *client, opt int) {
		s.mu.Lock()
		seq := s.countLocked(opt)
		_, line := s.snapshot()
		enqueue(broadcast{line: line})
		s.mu.Unlock()
		c.sink.reply(wire.AppendOK(nil, seq))
	}
	s.goroutine(func() {
		for {
			select {
			case b := <-work:
				if b.to != nil {
					if b.line != nil {
						b.to.write(b.line)
						b.to.greeted = true
					}
					if b.flushed != nil {
						close(b.flushed)
					}
					continue
				}
				for _, c := range s.clientList() {
					c.sink.push(0, b.line) // a direct write: blocks on a stalled client
				}
			case <-s.done:
				return
			}
		}
	})
}

// broadcast is one job for the worker: a tally for every client, or a TALLY
// reply for one, or a marker that the jobs before it are written.
type broadcast struct {
	line    []byte
	to      *viaWorker    // nil: every client
	flushed chan struct{} // closed when the job is done
}

// viaWorker writes replies and pushes directly, but sends TALLY replies
// through the worker, and before closing waits until the worker has written
// every tally queued so far. A reply written directly waits until the TALLY
// replies before it are written, so that replies keep request order (the
// current TALLY after HELLO included). The worker pushes nothing to a
// client before that current TALLY: a tally queued before it is no newer.
type viaWorker struct {
	*direct
	enqueue  func(broadcast)
	done     <-chan struct{}
	answered chan struct{} // closed once the last TALLY reply queued is written; nil: none queued
	greeted  bool          // the worker has written the current TALLY after HELLO (only the worker touches it)
}

// answer and reply are called from the connection's own goroutine.
func (v *viaWorker) answer(_ uint64, line []byte) {
	v.answered = make(chan struct{})
	v.enqueue(broadcast{line: line, to: v, flushed: v.answered})
}

// push is called by the worker.
func (v *viaWorker) push(seq uint64, line []byte) {
	if v.greeted {
		v.direct.push(seq, line)
	}
}

func (v *viaWorker) reply(line []byte) bool {
	if v.answered != nil {
		select {
		case <-v.answered:
		case <-v.done:
			return false
		}
		v.answered = nil
	}
	return v.direct.reply(line)
}

// last goes through the worker too, after the tallies queued before it.
func (v *viaWorker) last(line []byte) { v.enqueue(broadcast{line: line, to: v}) }

func (v *viaWorker) finish() {
	flushed := make(chan struct{})
	v.enqueue(broadcast{to: v, flushed: flushed})
	select {
	case <-flushed:
	case <-v.done:
	}
	v.conn.Close()
}
