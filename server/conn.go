package server

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stallproof/stallproof/server/wire"
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

// ---- writer ----

func (c *conn) writeLoop() {
	defer c.exit()
	var buf []byte
	for {
		c.mu.Lock()
		for c.state == stateOpen && len(c.out) == 0 && c.box == nil {
			c.cond.Wait()
		}
		if c.state >= stateDone {
			c.mu.Unlock()
			return
		}
		buf, c.out = c.out, buf[:0]
		snap := c.box
		c.box = nil
		state := c.state
		finish := state != stateOpen && len(buf) == 0 && snap == nil
		lastTally := false
		if finish {
			if state == stateDraining {
				if c.counts == nil {
					c.counts = make([]uint64, len(c.s.set.options))
				}
				if seq, ok := c.s.tally.readIfNewer(c.counts, c.last); ok {
					buf = wire.AppendTally(buf, seq, c.s.set.options, c.counts)
					c.last = seq
					lastTally = true
				}
			}
			c.state = stateDone
		}
		c.mu.Unlock()

		if snap != nil {
			buf = append(buf, snap.line...)
		}
		if len(buf) > 0 {
			c.nc.SetWriteDeadline(c.s.writeDeadline())
			if _, err := c.nc.Write(buf); err != nil {
				c.writeFailed(err)
				return
			}
			if snap != nil || lastTally {
				c.s.stats.sent.Add(1)
			}
		}
		if finish {
			if state == stateDraining {
				c.close(reasonNone)
			} else {
				closeWrite(c.nc) // the reader lingers, then closes
			}
			return
		}
		if cap(buf) > maxKeptBuf {
			buf = nil
		}
	}
}

func (c *conn) writeFailed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.s.shuttingDown() {
		c.close(reasonWriteTimeout)
		return
	}
	c.close(reasonNone)
}

// closeWrite half-closes nc if it can (TCP, faultnet), so the client reads
// EOF after the last line even while the reader lingers.
func closeWrite(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// ---- reader ----

func (c *conn) readLoop() {
	defer c.exit()
	c.rbuf = make([]byte, readBufSize)
	var (
		readErr     error
		lineStart   time.Time // when the partial line at rbuf[r:w] was first seen
		deadlineSet bool
	)
	for {
		completed := false
		for {
			i := indexNL(c.rbuf[c.r:c.w])
			if i < 0 {
				break
			}
			if i+1 > wire.MaxLine {
				c.tooLong()
				return
			}
			stop := c.handle(c.rbuf[c.r : c.r+i+1])
			c.r += i + 1
			completed = true
			if stop {
				c.linger()
				return
			}
		}
		pending := c.w - c.r
		if pending >= wire.MaxLine {
			c.tooLong()
			return
		}
		if !c.flush() {
			return
		}
		if readErr != nil {
			c.readFailed(readErr, pending > 0)
			return
		}
		if c.r > 0 {
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
			c.r = 0
		}
		// A started line must end within LineTimeout; an idle client may wait.
		if completed || pending == 0 {
			lineStart = time.Time{}
		}
		if pending == 0 {
			if deadlineSet {
				c.nc.SetReadDeadline(time.Time{})
				deadlineSet = false
			}
		} else if lineStart.IsZero() {
			lineStart = time.Now()
			c.nc.SetReadDeadline(lineStart.Add(c.s.set.lineTimeout))
			deadlineSet = true
		}
		var n int
		n, readErr = c.nc.Read(c.rbuf[c.w:])
		c.w += n
	}
}

func indexNL(b []byte) int {
	for i, ch := range b {
		if ch == '\n' {
			return i
		}
	}
	return -1
}

func (c *conn) readFailed(err error, partial bool) {
	switch {
	case err == io.EOF:
		// Half-close: every complete line is answered; a partial one is dropped.
		c.drain()
	case partial && errors.Is(err, os.ErrDeadlineExceeded):
		c.close(reasonLineTimeout)
	default:
		c.close(reasonNone)
	}
}

// handle processes one complete line (terminator included) and reports
// whether the connection is finishing (QUIT).
func (c *conn) handle(line []byte) (stop bool) {
	req, err := wire.ParseRequest(line)
	if err != nil {
		c.flushVotes()
		c.batch = wire.AppendErr(c.batch, wire.CodeBadRequest, badRequestText(err))
		return false
	}
	if req.Kind != wire.Quit && c.s.shuttingDown() {
		c.flushVotes()
		c.batch = append(c.batch, errShuttingDown...)
		return false
	}
	switch req.Kind {
	case wire.Vote:
		i, ok := c.s.index[string(req.Option)]
		if !ok {
			c.flushVotes()
			c.batch = append(c.batch, "ERR "+wire.CodeUnknownOption+" no such option: "...)
			c.batch = append(c.batch, req.Option...)
			c.batch = append(c.batch, '\n')
			return false
		}
		c.votes = append(c.votes, i)
		if len(c.votes) == maxBatchVotes {
			c.flushVotes()
		}
	case wire.Tally:
		c.flushVotes()
		c.mu.Lock()
		over := false
		if c.state < stateFinal {
			c.out = append(c.out, c.batch...)
			c.appendTallyLocked()
			c.cond.Signal()
			over = c.overflowLocked()
		}
		c.mu.Unlock()
		c.batch = c.batch[:0]
		if over {
			c.close(reasonQueueFull)
		}
	case wire.Quit:
		c.flushVotes()
		c.batch = wire.AppendBye(c.batch)
		c.finish()
		return true
	}
	return false
}

// flushVotes counts the parsed votes under one acquisition of the tally
// lock and formats their OK replies, in order.
func (c *conn) flushVotes() {
	if len(c.votes) == 0 {
		return
	}
	first := c.s.tally.add(c.votes)
	for k := range c.votes {
		c.batch = wire.AppendOK(c.batch, first+uint64(k))
	}
	c.votes = c.votes[:0]
	if c.s.wakeBroadcaster() {
		c.yield = true
	}
}

// flush counts pending votes and queues the batch of replies for the
// writer. It reports false if the connection is finished or was evicted.
func (c *conn) flush() bool {
	c.flushVotes()
	if c.yield {
		// This reader just woke the broadcaster. Let it run now: when
		// every client is busy, goroutines that wake each other in turn
		// (reader, writer, client) can keep a P for a whole time slice,
		// and a broadcaster waiting behind them would push a tally only
		// a few times a second. Once per broadcast, not per vote.
		defer runtime.Gosched()
		c.yield = false
	}
	if len(c.batch) == 0 {
		return true
	}
	c.mu.Lock()
	open, over := c.state < stateFinal, false
	if open {
		c.out = append(c.out, c.batch...)
		c.cond.Signal()
		over = c.overflowLocked()
	}
	c.mu.Unlock()
	c.batch = c.batch[:0]
	if cap(c.batch) > maxKeptBuf {
		c.batch = nil
	}
	if over {
		c.close(reasonQueueFull)
		return false
	}
	return open
}

// overflowLocked reports whether the reply queue is over its cap. The
// caller then closes the connection (reasonQueueFull).
func (c *conn) overflowLocked() bool {
	return len(c.out) > c.s.set.maxReplyBytes
}

// finish queues the batch (ending in BYE or an ERR) as the last thing the
// client receives; no pushed tally follows it.
func (c *conn) finish() {
	c.mu.Lock()
	if c.state < stateFinal {
		c.out = append(c.out, c.batch...)
		c.state = stateFinal
		c.box = nil
		c.cond.Signal()
	}
	c.mu.Unlock()
	c.batch = c.batch[:0]
}

// tooLong answers a line longer than wire.MaxLine and closes: the framing
// can no longer be trusted.
func (c *conn) tooLong() {
	c.s.stats.count(reasonLineTooLong)
	c.s.set.log.Info("client closed", "reason", reasonLineTooLong.String(), "remote", c.remote())
	c.flushVotes()
	c.batch = append(c.batch, errLineTooLong...)
	c.finish()
	c.linger()
}

// linger reads and drops what the client still sends, for a short while,
// so that closing with unread input does not reset the connection and
// destroy the last lines before the client reads them.
func (c *conn) linger() {
	c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	for {
		if _, err := c.nc.Read(c.rbuf); err != nil {
			return
		}
	}
}

var (
	errLineTooLong  = []byte("ERR " + wire.CodeLineTooLong + " a line is at most 256 bytes\n")
	errShuttingDown = []byte("ERR " + wire.CodeShuttingDown + " the server is shutting down\n")
	errBusy         = []byte("ERR " + wire.CodeBusy + " too many clients\n")
)

func badRequestText(err error) string {
	msg := err.Error()
	const prefix = "bad-request: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}
