package faultnet

import (
	"net"
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
	// A Conn is a front: the faults, deadlines, counters and event log
	// are its own; the bytes move through t, an in-memory end (memEnd,
	// pipe.go) or a real socket (sockEnd, wrap.go).
	name          string
	local, remote net.Addr
	born          time.Time

	t      transport
	rd, wr side

	closed atomic.Bool

	log eventLog

	injMu sync.Mutex
	live  []*Injection
}

var _ net.Conn = (*Conn)(nil)

// transport is what a Conn's bytes move through. Its read and write
// apply the faults of the Conn's sides (c.rd, c.wr) where they can: in
// memory, on the bytes in the buffer; on a socket, around the system
// calls.
type transport interface {
	// locks returns the locks and conditions of the reading and the
	// writing side: in memory, those of the streams, shared with the peer.
	locks() (rdMu *sync.Mutex, rdCond *sync.Cond, wrMu *sync.Mutex, wrCond *sync.Cond)
	read(p []byte) (int, error)
	write(p []byte) (int, error)
	setReadDeadline(t time.Time) error
	setWriteDeadline(t time.Time) error
	// close closes the transport once the Conn is marked closed.
	close() error
	closeWrite() error
	closeRead() error
	// reset drops the connection with ECONNRESET on both ends.
	reset()
	setLinger(sec int) error
	setReadBuffer(n int) error
	setWriteBuffer(n int) error
	// unsent and unread count the bytes held in memory; the caller holds
	// the writing (unsent) or reading (unread) side's lock.
	unsent() int64
	unread() int64
	peer() *Conn
	unwrap() net.Conn
}

func (c *Conn) init(name string, local, remote net.Addr, t transport, cfg *config, index uint64) {
	c.name, c.local, c.remote, c.born, c.t = name, local, remote, time.Now(), t
	c.log.init(c, cfg)
	rdMu, rdCond, wrMu, wrCond := t.locks()
	c.rd.init(c, "read", rdMu, rdCond, cfg.seed, 2*index)
	c.wr.init(c, "write", wrMu, wrCond, cfg.seed, 2*index+1)
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
func (c *Conn) Peer() *Conn { return c.t.peer() }

// Unwrap returns the connection that Wrap wrapped, or nil in memory.
func (c *Conn) Unwrap() net.Conn { return c.t.unwrap() }

// Read reads data, subject to the faults on this end's reads. It returns
// io.EOF once the peer has closed its write side and every byte it wrote
// before has been read.
func (c *Conn) Read(p []byte) (int, error) { return c.t.read(p) }

// Write writes data, subject to the faults on this end's writes. It blocks
// while the peer's unread bytes fill the direction's buffer, as a TCP write
// blocks on a zero window. A Write that fails part way returns the number of
// bytes it buffered: all of them reach the peer after a timeout or a
// CloseWrite, while a reset drops whatever was in flight, as TCP's does.
func (c *Conn) Write(p []byte) (int, error) { return c.t.write(p) }

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
	return c.t.setReadDeadline(t)
}

// SetWriteDeadline sets the deadline for pending and future Writes, blocked
// ones included; a zero t means none.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return opError("set", c.local, c.remote, net.ErrClosed)
	}
	c.wr.setDeadline(t)
	return c.t.setWriteDeadline(t)
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
	err := c.t.close()
	c.stopTimers()
	return err
}

// CloseWrite shuts down the writing side (a TCP FIN): the peer reads what
// was sent, then io.EOF, while data keeps flowing the other way. Later
// Writes on this end fail with EPIPE.
func (c *Conn) CloseWrite() error {
	if c.closed.Load() {
		return opError("close", c.local, c.remote, net.ErrClosed)
	}
	c.log.add(EventCloseWrite, "", -1)
	return c.t.closeWrite()
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
	return c.t.closeRead()
}

// resetNow resets the connection: both ends' Reads and Writes fail with
// ECONNRESET and data in flight is lost.
func (c *Conn) resetNow() { c.t.reset() }

// wakeAll wakes every call waiting on either side, to re-check its state.
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

// SetLinger sets the linger of the connection, as (*net.TCPConn).SetLinger
// does: with sec 0, Close resets the connection (RST) instead of closing it.
func (c *Conn) SetLinger(sec int) error { return c.t.setLinger(sec) }

// SetReadBuffer sets this end's receive buffer. In memory, a direction holds
// the writer's send buffer plus the reader's receive buffer; for a wrapped
// connection it sets SO_RCVBUF.
func (c *Conn) SetReadBuffer(n int) error { return c.t.setReadBuffer(n) }

// SetWriteBuffer sets this end's send buffer (see SetReadBuffer).
func (c *Conn) SetWriteBuffer(n int) error { return c.t.setWriteBuffer(n) }

// SetNoDelay forwards to a wrapped connection; in memory it has no effect
// (bytes are never held back).
func (c *Conn) SetNoDelay(noDelay bool) error {
	if nd, ok := c.Unwrap().(interface{ SetNoDelay(bool) error }); ok {
		return nd.SetNoDelay(noDelay)
	}
	return nil
}

// SetKeepAlive forwards to a wrapped connection; in memory it has no effect.
func (c *Conn) SetKeepAlive(keepalive bool) error {
	if ka, ok := c.Unwrap().(interface{ SetKeepAlive(bool) error }); ok {
		return ka.SetKeepAlive(keepalive)
	}
	return nil
}

// SetKeepAlivePeriod forwards to a wrapped connection; in memory it has no
// effect.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	if ka, ok := c.Unwrap().(interface{ SetKeepAlivePeriod(time.Duration) error }); ok {
		return ka.SetKeepAlivePeriod(d)
	}
	return nil
}
