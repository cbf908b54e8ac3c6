package mutants

import (
	"net"
	"sync"
)

// replyCap bounds the replies queued for one client: past it the reader
// waits (TCP backpressure on a client that sends but does not read).
const replyCap = 4 << 10

// outbox is the correct delivery, which the mutants whose bug lies elsewhere
// use: one writer goroutine per client, no lock held during I/O, replies in
// a queue bounded in bytes, pushed tallies in a one-slot mailbox that only a
// newer seq replaces, so a stalled client costs O(1) memory and blocks no one.
type outbox struct {
	conn net.Conn

	mu       sync.Mutex
	replies  []byte // queued replies, in order
	maxSeq   uint64 // highest seq of a TALLY reply in replies
	tally    []byte // the mailbox: the newest pushed tally not yet written
	tallySeq uint64 // seq of the newest tally ever put in the mailbox
	closing  bool   // write what is queued, then close
	ended    bool   // the last reply is queued: no more tallies

	buf  []byte             // the writer's: what it is writing
	send func([]byte) error // how the writer writes a batch; nil: conn.Write

	wake chan struct{} // there is something to write
	took chan struct{} // the writer took the queued replies
	dead chan struct{} // closed when the writer has ended
}

func newOutboxFor(conn net.Conn) *outbox {
	return &outbox{
		conn: conn,
		wake: make(chan struct{}, 1),
		took: make(chan struct{}, 1),
		dead: make(chan struct{}),
	}
}

// startOutbox makes c's outbox and starts its writer, which Serve waits for.
func (s *server) startOutbox(c *client) *outbox {
	o := newOutboxFor(c.conn)
	s.goroutine(func() { o.run(s.done) })
	return o
}

// newOutbox is the default newSink hook.
func (s *server) newOutbox(c *client) sink { return s.startOutbox(c) }

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// enqueue queues a reply without waiting; seq is the reply's tally seq, or 0.
func (o *outbox) enqueue(line []byte, seq uint64) {
	o.mu.Lock()
	o.replies = append(o.replies, line...)
	o.maxSeq = max(o.maxSeq, seq)
	o.mu.Unlock()
	signal(o.wake)
}

func (o *outbox) reply(line []byte) bool {
	if !o.room() {
		return false
	}
	o.enqueue(line, 0)
	return true
}

func (o *outbox) room() bool {
	for {
		select {
		case <-o.dead:
			return false
		default:
		}
		o.mu.Lock()
		full := len(o.replies) >= replyCap
		o.mu.Unlock()
		if !full {
			return true
		}
		select {
		case <-o.took:
		case <-o.dead:
			return false
		}
	}
}

func (o *outbox) answer(seq uint64, line []byte) { o.enqueue(line, seq) }

func (o *outbox) push(seq uint64, line []byte) {
	o.mu.Lock()
	if seq > o.tallySeq && !o.ended { // the version guard: never replace a newer tally
		o.tally, o.tallySeq = line, seq
	}
	o.mu.Unlock()
	signal(o.wake)
}

// last queues the mailbox's tally, if newer than the replies', and then
// line, so that the tally pushed before line is not written after it.
func (o *outbox) last(line []byte) {
	o.mu.Lock()
	if o.tally != nil && o.tallySeq > o.maxSeq {
		o.replies = append(o.replies, o.tally...)
	}
	o.replies = append(o.replies, line...)
	o.tally, o.ended = nil, true
	o.mu.Unlock()
	signal(o.wake)
}

func (o *outbox) finish() {
	o.mu.Lock()
	o.closing = true
	o.mu.Unlock()
	signal(o.wake)
	<-o.dead
}

// run is the writer: it writes until the client is finished, the server
// stops or a write fails, then closes the connection.
func (o *outbox) run(stop <-chan struct{}) {
	defer close(o.dead)
	defer o.conn.Close()
	for o.writeNext(stop) {
	}
}

// writeNext waits for something to write, takes everything queued at once,
// and writes the replies and then the mailbox's tally (unless a reply already
// carried one as new). It reports false when the writer should end: the
// server stopped, a write failed, or the client is finished and all is written.
func (o *outbox) writeNext(stop <-chan struct{}) bool {
	select {
	case <-o.wake:
	case <-stop:
		return false
	}
	o.mu.Lock()
	o.buf = append(o.buf[:0], o.replies...)
	o.replies = o.replies[:0]
	if o.tally != nil && o.tallySeq > o.maxSeq {
		o.buf = append(o.buf, o.tally...)
	}
	o.tally, o.maxSeq = nil, 0
	closing := o.closing
	o.mu.Unlock()
	signal(o.took)
	if len(o.buf) > 0 {
		if o.send != nil {
			return o.send(o.buf) == nil && !closing
		}
		if _, err := o.conn.Write(o.buf); err != nil {
			return false
		}
	}
	return !closing
}
