package properties

import (
	"fmt"
	"time"
)

// Pacing a flood to the healthy readers.
//
// A client that floods requests without reading (a stalled client filling
// its buffers, a flooder) makes a publishing server push every request to
// every subscriber. The suite's healthy clients read in the same process,
// on a machine that may be busy: a flood written in bulk can outrun them by
// hundreds of kilobytes. A server that declares it drops slow consumers
// (Drop, Evict) then rightly drops a healthy client, and the suite would
// call that a violation of its own making. So a flood waits, between its
// writes, while a healthy client is more than paceLag behind: TCP's flow
// control, between the suite's own clients.

// paceLag is how far behind a healthy client may be, in bytes waiting for
// it to read (in memory, and in the server's socket where the kernel shows
// it), before a flood waits for it.
const paceLag = 8 << 10

// A pacer holds a flooding client back while a healthy client is behind.
// It gives up, for the rest of the flood, once a healthy client stays
// behind for the bound: its reader is starved or stuck, and pacing it
// would only make the check slow.
type pacer struct {
	e       *env
	flooder *client
	off     bool
	waited  time.Duration // in all, for reports
}

func (e *env) pacer(flooder *client) *pacer { return &pacer{e: e, flooder: flooder} }

// wait returns once every healthy client other than the flooder is at most
// paceLag behind, or one of them has stayed behind for the bound (then
// pacing is off for the rest of the flood).
func (p *pacer) wait() {
	if p.off {
		return
	}
	var start time.Time
	for p.e.ctx.Err() == nil {
		c, behind := p.behindMost()
		if behind <= paceLag {
			break
		}
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > p.e.bound {
			p.off = true
			p.e.logf("%v stayed %d bytes behind for %v: %v floods on unpaced", c, behind, p.e.bound, p.flooder)
			break
		}
		p.e.pause(time.Millisecond)
	}
	if !start.IsZero() {
		p.waited += time.Since(start)
	}
}

// String says how long the flood waited for healthy readers, or "" if it
// did not.
func (p *pacer) String() string {
	if p.waited == 0 {
		return ""
	}
	return fmt.Sprintf(" (paced: waited %v in all for healthy clients to read)", p.waited.Round(time.Millisecond))
}

// behindMost returns the healthy client furthest behind and by how many
// bytes.
func (p *pacer) behindMost() (most *client, behind int64) {
	for _, c := range p.e.clientList() {
		if c == p.flooder || !owed(c) || c.conn == nil || ended(c) {
			continue // no reader will catch up
		}
		n := c.conn.Stats().Unread + p.e.inKernel(c)
		if n > behind {
			most, behind = c, n
		}
	}
	return most, behind
}

// ended reports whether c's reader has ended (or, for a library client,
// c was closed).
func ended(c *client) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// inKernel returns the bytes on their way to client c in the kernel, where
// the kernel's view shows them: unacknowledged in the server's socket, and
// unread in the splice's socket.
func (e *env) inKernel(c *client) int64 {
	kv, local, remote, ok := e.serverPair(c)
	if !ok {
		return 0
	}
	var n int64
	if s, err := kv.diag.Lookup(local, remote); err == nil {
		n += int64(s.SendQueue)
	}
	if s, err := kv.diag.Lookup(remote, local); err == nil {
		n += int64(s.RecvQueue)
	}
	return n
}
