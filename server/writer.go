package server

import (
	"errors"
	"net"
	"os"

	"github.com/stallproof/stallproof/wire"
)

// writeLoop is the writer goroutine. It takes everything the reader queued
// and the newest pushed tally, and writes them in one Write with a
// deadline, holding no lock. A draining client then gets the latest tally
// and is closed; a finishing one (BYE, ERR line-too-long) is half-closed.
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
