package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// Sizes of a connection's buffers.
const (
	readBufSize   = 1024    // holds at least one whole line (wire.MaxLine) and a batch of pipelined requests
	maxKeptBuf    = 8 << 10 // an idle writer keeps no bigger buffer than this
	maxBatchVotes = 64      // votes counted under one acquisition of the tally lock
	lingerTimeout = 2 * time.Second
)

// connState orders a connection's life. It only moves forward.
type connState uint8

const (
	stateOpen     connState = iota
	stateDraining           // write what is queued and the latest tally, then close (half-close, shutdown)
	stateFinal              // write what is queued (it ends in BYE or an ERR), then close; no more pushes
	stateDone               // the writer wrote its last byte
	stateClosed             // closed: nothing more is written
)

// conn is one client: a reader goroutine (readLoop) that parses requests,
// counts votes and queues replies, and a writer goroutine (writeLoop) that
// writes queued replies and the newest pushed tally in one batch.
//
// Lock order: conn.mu, then tally.mu. Nothing takes conn.mu while holding
// tally.mu, and nothing does I/O or blocks while holding either.
type conn struct {
	s  *Server
	nc net.Conn

	idx int // position in s.conns; guarded by s.regMu

	mu    sync.Mutex
	cond  sync.Cond // signalled when out, box or state change
	state connState
	out   []byte    // replies queued and not yet taken by the writer
	box   *snapshot // the newest pushed tally not yet taken by the writer
	last  uint64    // highest tally seq queued for or written to this client
	// counts is scratch space for the tally copied under tally.mu for
	// TALLY replies and the last tally; guarded by mu.
	counts []uint64

	live atomic.Int32 // reader and writer goroutines still running

	// Owned by the reader goroutine.
	rbuf  []byte
	r, w  int
	batch []byte  // replies formatted and not yet queued
	votes []uint8 // votes parsed and not yet counted
	yield bool    // the broadcaster was woken: yield after queuing replies
	voteA [maxBatchVotes]uint8
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	c.cond.L = &c.mu
	c.votes = c.voteA[:0]
	return c
}

// start queues HELLO and the current tally, then starts both goroutines.
func (c *conn) start() {
	c.mu.Lock()
	c.out = append(make([]byte, 0, len(c.s.hello)+tallyLineSize(c.s.set.options)), c.s.hello...)
	c.appendTallyLocked()
	c.mu.Unlock()
	c.live.Store(2)
	c.s.wg.Go(c.readLoop)
	c.s.wg.Go(c.writeLoop)
}

// appendTallyLocked queues the current tally as a reply. It supersedes a
// pushed tally still in the box: that one is older, and writing it after
// this reply would make the client's seqs go back.
func (c *conn) appendTallyLocked() {
	if c.counts == nil {
		c.counts = make([]uint64, len(c.s.set.options))
	}
	seq := c.s.tally.read(c.counts)
	c.out = wire.AppendTally(c.out, seq, c.s.set.options, c.counts)
	c.last = seq
	if c.box != nil {
		c.box = nil
		c.s.stats.conflated.Add(1)
	}
}

// offer puts snap in the client's one-slot mailbox if it is newer than
// every tally the client has been sent or has queued. It never blocks.
// It reports whether an unsent snapshot was replaced.
func (c *conn) offer(snap *snapshot) (conflated bool) {
	c.mu.Lock()
	if c.state < stateFinal && snap.seq > c.last {
		conflated = c.box != nil
		c.box = snap
		c.last = snap.seq
		c.cond.Signal()
	}
	c.mu.Unlock()
	return conflated
}

// drain asks the writer to write what is queued and the latest tally, then
// close: a half-close from the client or a shutdown.
func (c *conn) drain() {
	c.mu.Lock()
	if c.state == stateOpen {
		c.state = stateDraining
		c.cond.Signal()
	}
	c.mu.Unlock()
}

// close closes the connection at once. It is idempotent, never blocks on
// the client, and counts and logs the reason the first time.
func (c *conn) close(why reason) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	c.out, c.box = nil, nil
	c.cond.Broadcast()
	c.mu.Unlock()
	if why != reasonNone {
		// Counted before the client can see the close.
		c.s.stats.count(why)
		c.s.set.log.Warn("client closed", "reason", why.String(), "remote", c.remote())
	}
	c.nc.Close()
}

func (c *conn) remote() string {
	if a := c.nc.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// exit runs as each goroutine ends; the last one releases the connection.
func (c *conn) exit() {
	if c.live.Add(-1) == 0 {
		c.close(reasonNone)
		c.s.unregister(c)
	}
}
