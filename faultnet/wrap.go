package faultnet

import (
	"errors"
	"net"
	"os"
	"time"
)

var errNotSupported = errors.New("operation not supported by the wrapped connection")

// Wrap returns c with fault controls, so the faults of an in-memory
// connection apply to a real one (typically loopback TCP). With no fault
// active, Read and Write go straight to c after one atomic load.
//
// The methods of *net.TCPConn that a server may call (CloseRead, CloseWrite,
// SetLinger, SetNoDelay, SetKeepAlive, SetKeepAlivePeriod, SetReadBuffer,
// SetWriteBuffer) are forwarded to c when c has them, so wrapping never turns
// a half-close into a full close. Errors from c pass through unchanged.
func Wrap(c net.Conn, opts ...Option) *Conn {
	cfg := newConfig(opts)
	wc := wrap(c, &cfg, 0, "")
	for _, f := range cfg.faults {
		wc.Inject(f)
	}
	return wc
}

func wrap(inner net.Conn, cfg *config, index uint64, suffix string) *Conn {
	c := &Conn{inner: inner}
	name := cfg.name
	if name == "" {
		name = "tcp"
	}
	c.init(name+suffix, inner.LocalAddr(), inner.RemoteAddr(), cfg, index)
	if cfg.kernelBufs > 0 {
		_ = ShrinkBuffers(inner, cfg.kernelBufs)
	}
	return c
}

// ShrinkBuffers sets the kernel's send and receive buffers of a TCP
// connection (or one that wraps it) to n bytes each. On Linux loopback a
// reader that stops reading then stalls its peer's writes after some tens
// of kilobytes instead of about 4 MiB. It returns an error if c has no such
// buffers.
func ShrinkBuffers(c net.Conn, n int) error {
	type buffers interface {
		SetReadBuffer(int) error
		SetWriteBuffer(int) error
	}
	b, ok := c.(buffers)
	if !ok {
		return errNotSupported
	}
	if err := b.SetReadBuffer(n); err != nil {
		return err
	}
	return b.SetWriteBuffer(n)
}

func (c *Conn) innerErr(op string, err error) error {
	if err == nil || !c.reset.Load() || c.closed.Load() {
		return err
	}
	// The wrapper closed the socket to reset it; report the reset.
	if op == "read" {
		return c.readErr(errReadReset)
	}
	return c.writeErr(errWriteReset)
}

// wrappedCheck returns the error an operation on a wrapped side meets
// before it reaches the socket. Caller holds s.mu.
func (c *Conn) wrappedCheck(s *side) error {
	switch {
	case c.closed.Load():
		return opError(s.op, c.local, c.remote, net.ErrClosed)
	case c.reset.Load():
		if s.op == "read" {
			return c.readErr(errReadReset)
		}
		return c.writeErr(errWriteReset)
	case s.expired():
		return opError(s.op, c.local, c.remote, os.ErrDeadlineExceeded)
	}
	return nil
}

func (c *Conn) wrappedRead(p []byte) (int, error) {
	s := &c.rd
	if !s.slow.Load() {
		n, err := c.inner.Read(p)
		s.bytes.Add(int64(n))
		return n, c.innerErr("read", err)
	}
	s.mu.Lock()
	for {
		if err := c.wrappedCheck(s); err != nil {
			s.mu.Unlock()
			return 0, err
		}
		if hold, until := s.gate(); hold {
			s.wait(until)
			continue
		}
		break
	}
	k := len(p)
	if k > 0 {
		k = s.chunk(k)
	}
	s.mu.Unlock()
	n, err := c.inner.Read(p[:k])
	s.mu.Lock()
	due := s.moved(n)
	s.mu.Unlock()
	if due {
		s.fireDue()
	}
	return n, c.innerErr("read", err)
}

func (c *Conn) wrappedWrite(p []byte) (int, error) {
	s := &c.wr
	if !s.slow.Load() {
		n, err := c.inner.Write(p)
		s.bytes.Add(int64(n))
		return n, c.innerErr("write", err)
	}
	n := 0
	for {
		s.mu.Lock()
		var ready time.Time
		for {
			if err := c.wrappedCheck(s); err != nil {
				s.mu.Unlock()
				return n, err
			}
			if len(p) == 0 {
				s.mu.Unlock()
				return n, nil
			}
			if hold, until := s.gate(); hold {
				s.wait(until)
				continue
			}
			if ready.IsZero() {
				ready = s.readyAt() // latency delays the writer here
			}
			if !ready.IsZero() && time.Now().Before(ready) {
				s.wait(ready)
				continue
			}
			break
		}
		k := s.chunk(len(p))
		s.mu.Unlock()
		m, err := c.inner.Write(p[:k])
		p, n = p[m:], n+m
		s.mu.Lock()
		due := s.moved(m)
		s.mu.Unlock()
		if due {
			s.fireDue()
		}
		if err != nil {
			return n, c.innerErr("write", err)
		}
	}
}

// SetLinger sets the linger of the connection, as (*net.TCPConn).SetLinger
// does: with sec 0, Close resets the connection (RST) instead of closing it.
func (c *Conn) SetLinger(sec int) error {
	if c.inner != nil {
		if l, ok := c.inner.(interface{ SetLinger(int) error }); ok {
			return l.SetLinger(sec)
		}
		return errNotSupported
	}
	c.linger.Store(int32(sec))
	return nil
}

// SetReadBuffer sets this end's receive buffer. In memory, a direction holds
// the writer's send buffer plus the reader's receive buffer; for a wrapped
// connection it sets SO_RCVBUF.
func (c *Conn) SetReadBuffer(n int) error {
	if c.inner != nil {
		if b, ok := c.inner.(interface{ SetReadBuffer(int) error }); ok {
			return b.SetReadBuffer(n)
		}
		return errNotSupported
	}
	c.in.mu.Lock()
	c.in.rcv = max(n, 0)
	c.in.cond.Broadcast()
	c.in.mu.Unlock()
	return nil
}

// SetWriteBuffer sets this end's send buffer (see SetReadBuffer).
func (c *Conn) SetWriteBuffer(n int) error {
	if c.inner != nil {
		if b, ok := c.inner.(interface{ SetWriteBuffer(int) error }); ok {
			return b.SetWriteBuffer(n)
		}
		return errNotSupported
	}
	c.out.mu.Lock()
	c.out.snd = max(n, 0)
	c.out.cond.Broadcast()
	c.out.mu.Unlock()
	return nil
}

// SetNoDelay forwards to a wrapped connection; in memory it has no effect
// (bytes are never held back).
func (c *Conn) SetNoDelay(noDelay bool) error {
	if nd, ok := c.inner.(interface{ SetNoDelay(bool) error }); ok {
		return nd.SetNoDelay(noDelay)
	}
	return nil
}

// SetKeepAlive forwards to a wrapped connection; in memory it has no effect.
func (c *Conn) SetKeepAlive(keepalive bool) error {
	if ka, ok := c.inner.(interface{ SetKeepAlive(bool) error }); ok {
		return ka.SetKeepAlive(keepalive)
	}
	return nil
}

// SetKeepAlivePeriod forwards to a wrapped connection; in memory it has no
// effect.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	if ka, ok := c.inner.(interface{ SetKeepAlivePeriod(time.Duration) error }); ok {
		return ka.SetKeepAlivePeriod(d)
	}
	return nil
}
