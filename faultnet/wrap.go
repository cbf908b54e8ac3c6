package faultnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

var errNotSupported = errors.New("operation not supported by the wrapped connection")

// Wrap returns c with fault controls, so the faults of an in-memory
// connection apply to a real one (typically loopback TCP). With no fault
// active, Read and Write go straight to c: one atomic load before the call
// (is a fault active?) and one atomic add after it (the byte count that
// [Conn.Stats] reports).
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
	c := &Conn{}
	w := &sockEnd{c: c, inner: inner}
	for i := range w.mu {
		w.cond[i].L = &w.mu[i]
	}
	name := cfg.name
	if name == "" {
		name = "tcp"
	}
	c.init(name+suffix, inner.LocalAddr(), inner.RemoteAddr(), w, cfg, index)
	if cfg.sockBufSize > 0 {
		_ = SetSocketBufferSize(inner, cfg.sockBufSize)
	}
	return c
}

// SetSocketBufferSize sets the socket buffers (SO_SNDBUF, SO_RCVBUF) of a
// live TCP connection (or one that wraps it) to n bytes each, as the
// SocketBufferSize option does for wrapped ones. On Linux loopback a
// reader that stops reading then stalls its peer's writes after some tens
// of kilobytes instead of about 4 MiB. It returns an error if c has no such
// buffers.
func SetSocketBufferSize(c net.Conn, n int) error {
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

// sockEnd is the transport of a wrapped connection: the real socket
// (inner), with a lock and condition per side for the calls that a fault
// holds back. With no fault on a side, its calls go straight to inner.
type sockEnd struct {
	c     *Conn
	inner net.Conn
	rst   atomic.Bool // a Reset fault fired
	mu    [2]sync.Mutex
	cond  [2]sync.Cond
}

var _ transport = (*sockEnd)(nil)

func (w *sockEnd) locks() (*sync.Mutex, *sync.Cond, *sync.Mutex, *sync.Cond) {
	return &w.mu[0], &w.cond[0], &w.mu[1], &w.cond[1]
}

func (w *sockEnd) peer() *Conn      { return nil }
func (w *sockEnd) unwrap() net.Conn { return w.inner }

// innerErr is the error to return for err from the socket: after a Reset
// fault, the reset rather than the wrapper's own close.
func (w *sockEnd) innerErr(op string, err error) error {
	if err == nil || !w.rst.Load() || w.c.closed.Load() {
		return err
	}
	if op == "read" {
		return w.c.readErr(errReadReset)
	}
	return w.c.writeErr(errWriteReset)
}

// check returns the error an operation on side s meets before it reaches
// the socket. Caller holds s.mu.
func (w *sockEnd) check(s *side) error {
	c := w.c
	switch {
	case c.closed.Load():
		return opError(s.op, c.local, c.remote, net.ErrClosed)
	case w.rst.Load():
		if s.op == "read" {
			return c.readErr(errReadReset)
		}
		return c.writeErr(errWriteReset)
	case s.expired():
		return opError(s.op, c.local, c.remote, os.ErrDeadlineExceeded)
	}
	return nil
}

func (w *sockEnd) read(p []byte) (int, error) {
	s := &w.c.rd
	if !s.slow.Load() {
		n, err := w.inner.Read(p)
		s.bytes.Add(int64(n))
		return n, w.innerErr("read", err)
	}
	s.mu.Lock()
	for {
		if err := w.check(s); err != nil {
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
	n, err := w.inner.Read(p[:k])
	s.mu.Lock()
	due := s.moved(n)
	s.mu.Unlock()
	if due {
		s.fireDue()
	}
	return n, w.innerErr("read", err)
}

func (w *sockEnd) write(p []byte) (int, error) {
	s := &w.c.wr
	if !s.slow.Load() {
		n, err := w.inner.Write(p)
		s.bytes.Add(int64(n))
		return n, w.innerErr("write", err)
	}
	n := 0
	for {
		s.mu.Lock()
		var ready time.Time
		for {
			if err := w.check(s); err != nil {
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
		m, err := w.inner.Write(p[:k])
		p, n = p[m:], n+m
		s.mu.Lock()
		due := s.moved(m)
		s.mu.Unlock()
		if due {
			s.fireDue()
		}
		if err != nil {
			return n, w.innerErr("write", err)
		}
	}
}

func (w *sockEnd) setReadDeadline(t time.Time) error  { return w.inner.SetReadDeadline(t) }
func (w *sockEnd) setWriteDeadline(t time.Time) error { return w.inner.SetWriteDeadline(t) }

func (w *sockEnd) close() error {
	w.c.wakeAll()
	err := w.inner.Close()
	if w.rst.Load() {
		err = nil // Reset closed the socket already; as after a received RST, Close succeeds
	}
	return err
}

func (w *sockEnd) closeWrite() error {
	if cw, ok := w.inner.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return opError("close", w.c.local, w.c.remote, errNotSupported)
}

func (w *sockEnd) closeRead() error {
	if cr, ok := w.inner.(interface{ CloseRead() error }); ok {
		return cr.CloseRead()
	}
	return opError("close", w.c.local, w.c.remote, errNotSupported)
}

func (w *sockEnd) reset() {
	w.rst.Store(true)
	_ = w.setLinger(0)
	_ = w.inner.Close()
	w.c.wakeAll()
}

func (w *sockEnd) setLinger(sec int) error {
	if l, ok := w.inner.(interface{ SetLinger(int) error }); ok {
		return l.SetLinger(sec)
	}
	return errNotSupported
}

func (w *sockEnd) setReadBuffer(n int) error {
	if b, ok := w.inner.(interface{ SetReadBuffer(int) error }); ok {
		return b.SetReadBuffer(n)
	}
	return errNotSupported
}

func (w *sockEnd) setWriteBuffer(n int) error {
	if b, ok := w.inner.(interface{ SetWriteBuffer(int) error }); ok {
		return b.SetWriteBuffer(n)
	}
	return errNotSupported
}

func (w *sockEnd) unsent() int64 { return 0 }
func (w *sockEnd) unread() int64 { return 0 }

// sockListener is a wrapped listener's transport: a real listener whose
// connections, accepted or dialed, are wrapped.
type sockListener struct {
	inner   net.Listener
	accepts uint64 // numbered apart from dials so seeds replay; guarded by the Listener's mu
}

func (s *sockListener) accept(l *Listener) (*Conn, error) {
	for {
		ok, err := l.admit()
		if err != nil {
			l.mu.Unlock()
			return nil, err
		}
		if ok {
			break
		}
		l.cond.Wait()
	}
	s.accepts++
	n := s.accepts
	l.mu.Unlock()
	inner, err := s.inner.Accept()
	if err != nil {
		return nil, err
	}
	return wrap(inner, &l.cfg, n<<1|1, fmt.Sprintf("#%d/server", n)), nil
}

func (s *sockListener) dial(ctx context.Context, l *Listener) (*Conn, error) {
	l.mu.Lock()
	n := l.nextDial()
	l.mu.Unlock()
	var d net.Dialer
	inner, err := d.DialContext(ctx, l.addr.Network(), l.addr.String())
	if err != nil {
		return nil, err
	}
	return wrap(inner, &l.cfg, n<<1, fmt.Sprintf("#%d/client", n)), nil
}

func (s *sockListener) close(*Listener) error { return s.inner.Close() }
