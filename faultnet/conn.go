package faultnet

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one end of a connection with faults: an end of an in-memory
// connection (Pipe, Listener.Dial, Listener.Accept), or a real connection
// wrapped by Wrap or WrapListener. It implements net.Conn, with the half-close
// and buffer methods of *net.TCPConn, and it is safe for concurrent use by
// any number of goroutines, as a net.Conn must be.
//
// Faults are switched on with Inject and off with the returned Injection's
// Remove, at any time, from any goroutine.
type Conn struct {
	name          string
	local, remote net.Addr
	born          time.Time

	inner   net.Conn // wrapped connection; nil in memory
	in, out *stream  // in memory: what this end reads, writes
	peer    *Conn    // in memory: the other end

	rd, wr side

	closed atomic.Bool
	reset  atomic.Bool // a Reset fault fired (wrapped conns)
	linger atomic.Int32

	ownMu   [2]sync.Mutex // wrapped conns: the sides' locks
	ownCond [2]sync.Cond

	log eventLog

	injMu sync.Mutex
	live  []*Injection
}

var _ net.Conn = (*Conn)(nil)

func (c *Conn) init(name string, local, remote net.Addr, cfg *config, index uint64) {
	c.name, c.local, c.remote, c.born = name, local, remote, time.Now()
	c.linger.Store(-1)
	c.log.init(c, cfg)
	if c.inner != nil {
		for i := range c.ownMu {
			c.ownCond[i].L = &c.ownMu[i]
		}
		c.rd.init(c, "read", &c.ownMu[0], &c.ownCond[0], cfg.seed, 2*index)
		c.wr.init(c, "write", &c.ownMu[1], &c.ownCond[1], cfg.seed, 2*index+1)
	} else {
		c.rd.init(c, "read", &c.in.mu, &c.in.cond, cfg.seed, 2*index)
		c.wr.init(c, "write", &c.out.mu, &c.out.cond, cfg.seed, 2*index+1)
	}
}

// String returns the connection's name.
func (c *Conn) String() string { return c.name }

// LocalAddr returns the local address: 127.0.0.1 and a port, for in-memory
// connections, so code that logs or parses addresses works unchanged.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the address of the other end.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// Peer returns the other end of an in-memory connection, through which a
// test can inject faults on the far side; nil for a wrapped connection.
func (c *Conn) Peer() *Conn { return c.peer }

// Unwrap returns the connection that Wrap wrapped, or nil in memory.
func (c *Conn) Unwrap() net.Conn { return c.inner }

// Read reads data, subject to the faults on this end's reads. It returns
// io.EOF once the peer has closed its write side and every byte it wrote
// before has been read.
func (c *Conn) Read(p []byte) (int, error) {
	if c.inner != nil {
		return c.wrappedRead(p)
	}
	s, st := &c.rd, c.in
	s.mu.Lock()
	for {
		switch {
		case c.closed.Load():
			s.mu.Unlock()
			return 0, c.readErr(net.ErrClosed)
		case st.rst:
			s.mu.Unlock()
			return 0, c.readErr(errReadReset)
		case st.rdClosed:
			s.mu.Unlock()
			return 0, io.EOF
		case s.expired():
			s.mu.Unlock()
			return 0, c.readErr(os.ErrDeadlineExceeded)
		case len(p) == 0:
			s.mu.Unlock()
			return 0, nil
		}
		if hold, until := s.gate(); hold {
			s.wait(until)
			continue
		}
		var avail int
		var next time.Time
		if len(st.marks) == 0 {
			avail = st.len()
		} else {
			avail, next = st.readable(time.Now())
		}
		if avail == 0 {
			if st.eof && st.len() == 0 {
				s.mu.Unlock()
				return 0, io.EOF
			}
			lend := next.IsZero() && st.hand == nil && !s.slow.Load()
			if lend {
				st.hand = p
			}
			s.wait(next)
			if lend {
				n := st.handN
				st.hand, st.handN = nil, 0
				if n > 0 {
					due := s.moved(n)
					s.mu.Unlock()
					if due {
						s.fireDue()
					}
					return n, nil
				}
			}
			continue
		}
		n := st.take(p[:s.chunk(min(len(p), avail))])
		due := s.moved(n)
		st.cond.Broadcast() // room for the writer
		s.mu.Unlock()
		if due {
			s.fireDue()
		}
		return n, nil
	}
}

// Write writes data, subject to the faults on this end's writes. It blocks
// while the peer's unread bytes fill the direction's buffer, as a TCP write
// blocks on a zero window. A Write that fails part way returns the number of
// bytes it buffered: all of them reach the peer after a timeout or a
// CloseWrite, while a reset drops whatever was in flight, as TCP's does.
func (c *Conn) Write(p []byte) (int, error) {
	if c.inner != nil {
		return c.wrappedWrite(p)
	}
	s, st := &c.wr, c.out
	n := 0
	s.mu.Lock()
	for {
		if n > 0 && len(p) == 0 { // all written: no later event turns it into an error
			s.mu.Unlock()
			return n, nil
		}
		switch {
		case c.closed.Load():
			s.mu.Unlock()
			return n, c.writeErr(net.ErrClosed)
		case st.rst:
			s.mu.Unlock()
			return n, c.writeErr(errWriteReset)
		case st.eof, st.rdClosed:
			s.mu.Unlock()
			return n, c.writeErr(errWritePipe)
		case s.expired():
			s.mu.Unlock()
			return n, c.writeErr(os.ErrDeadlineExceeded)
		case len(p) == 0:
			s.mu.Unlock()
			return n, nil
		}
		if hold, until := s.gate(); hold {
			s.wait(until)
			continue
		}
		if st.handN < len(st.hand) && st.len() == 0 && len(st.marks) == 0 && !s.slow.Load() && !c.peer.rd.slow.Load() {
			k := copy(st.hand[st.handN:], p)
			st.handN += k
			st.wrOff += int64(k)
			st.rdOff += int64(k)
			p, n = p[k:], n+k
			s.moved(k)
			st.cond.Broadcast() // the reader has its data
			continue
		}
		space := st.space()
		if space == 0 {
			if !s.full {
				s.full = true
				c.log.add(EventBufferFull, "", st.wrOff)
			}
			s.wait(time.Time{})
			continue
		}
		s.full = false
		k := s.chunk(min(len(p), space))
		st.push(p[:k], s.readyAt(), s.fx.frag > 0)
		p, n = p[k:], n+k
		st.cond.Broadcast() // data for the reader
		if s.moved(k) {
			s.mu.Unlock()
			s.fireDue()
			s.mu.Lock()
		}
	}
}

// SetDeadline sets the read and write deadlines, as net.Conn does.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for pending and future Reads, stalled
// ones included; a zero t means none.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return opError("set", c.local, c.remote, net.ErrClosed)
	}
	c.rd.setDeadline(t)
	if c.inner != nil {
		return c.inner.SetReadDeadline(t)
	}
	return nil
}

// SetWriteDeadline sets the deadline for pending and future Writes, blocked
// ones included; a zero t means none.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return opError("set", c.local, c.remote, net.ErrClosed)
	}
	c.wr.setDeadline(t)
	if c.inner != nil {
		return c.inner.SetWriteDeadline(t)
	}
	return nil
}

// Close closes the connection. Blocked Reads and Writes on this end return
// net.ErrClosed. The peer reads what was sent, then io.EOF; its writes fail
// with EPIPE. As in TCP, closing with unread received data, or after
// SetLinger(0), resets the connection instead: the peer sees ECONNRESET.
// A second Close returns an error wrapping net.ErrClosed, as a TCP
// connection's does, and has no other effect.
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return opError("close", c.local, c.remote, net.ErrClosed)
	}
	c.log.add(EventClose, "", -1)
	if c.inner != nil {
		c.wakeAll()
		err := c.inner.Close()
		if c.reset.Load() {
			err = nil // Reset closed the socket already; as after a received RST, Close succeeds
		}
		return err
	}
	in, out := c.in, c.out
	in.mu.Lock()
	unread := in.len() > 0
	in.rdClosed = true
	in.drop()
	in.cond.Broadcast()
	in.mu.Unlock()
	out.mu.Lock()
	if unread || c.linger.Load() == 0 {
		out.rst = true
		out.drop()
	} else {
		out.eof = true
	}
	out.cond.Broadcast()
	out.mu.Unlock()
	c.stopTimers()
	return nil
}

// CloseWrite shuts down the writing side (a TCP FIN): the peer reads what
// was sent, then io.EOF, while data keeps flowing the other way. Later
// Writes on this end fail with EPIPE.
func (c *Conn) CloseWrite() error {
	if c.closed.Load() {
		return opError("close", c.local, c.remote, net.ErrClosed)
	}
	c.log.add(EventCloseWrite, "", -1)
	if c.inner != nil {
		if cw, ok := c.inner.(interface{ CloseWrite() error }); ok {
			return cw.CloseWrite()
		}
		return opError("close", c.local, c.remote, errNotSupported)
	}
	c.out.mu.Lock()
	c.out.eof = true
	c.out.cond.Broadcast()
	c.out.mu.Unlock()
	return nil
}

// CloseRead shuts down the reading side: Reads on this end return io.EOF
// and unread data is discarded. In memory, the peer's Writes then fail with
// EPIPE. A wrapped TCP connection follows its kernel (Linux lets the peer
// keep writing).
func (c *Conn) CloseRead() error {
	if c.closed.Load() {
		return opError("close", c.local, c.remote, net.ErrClosed)
	}
	c.log.add(EventCloseRead, "", -1)
	if c.inner != nil {
		if cr, ok := c.inner.(interface{ CloseRead() error }); ok {
			return cr.CloseRead()
		}
		return opError("close", c.local, c.remote, errNotSupported)
	}
	c.in.mu.Lock()
	c.in.rdClosed = true
	c.in.drop()
	c.in.cond.Broadcast()
	c.in.mu.Unlock()
	return nil
}

// resetNow resets the connection: both ends' Reads and Writes fail with
// ECONNRESET and data in flight is lost.
func (c *Conn) resetNow() {
	if c.inner != nil {
		c.reset.Store(true)
		if tc, ok := c.inner.(interface{ SetLinger(int) error }); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.inner.Close()
		c.wakeAll()
		return
	}
	for _, st := range []*stream{c.in, c.out} {
		st.mu.Lock()
		st.rst = true
		st.drop()
		st.cond.Broadcast()
		st.mu.Unlock()
	}
	if c.peer != nil {
		c.peer.log.add(EventReset, "by peer", -1)
	}
}

func (c *Conn) wakeAll() {
	for _, s := range []*side{&c.rd, &c.wr} {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

func (c *Conn) stopTimers() {
	for _, s := range []*side{&c.rd, &c.wr} {
		s.mu.Lock()
		if s.timer != nil {
			s.timer.Stop()
		}
		s.mu.Unlock()
	}
}
