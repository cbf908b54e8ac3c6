package server

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// readLoop is the reader goroutine. It frames lines in its buffer,
// answers each complete one (counting votes in batches), queues the replies
// for the writer once per read, and enforces the line limits: a line over
// wire.MaxLine, or one not finished within LineTimeout, ends the client.
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
			i := bytes.IndexByte(c.rbuf[c.r:c.w], '\n')
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
