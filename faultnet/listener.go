package faultnet

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Listener is an in-memory listener (Listen) or a real one wrapped
// (WrapListener, ListenTCP). Either way every accepted connection is a
// *Conn, and the test controls the accept loop: FailAccepts, PauseAccept,
// and dial holds.
type Listener struct {
	cfg   config
	addr  net.Addr
	inner net.Listener // wrapped; nil in memory

	mu      sync.Mutex
	cond    sync.Cond
	queue   []*Conn // in memory: dialed, not yet accepted
	closed  bool
	fails   int // Accepts left to fail
	paused  bool
	holds   []*DialHold
	done    chan struct{} // closed by Close: releases held dials
	count   uint64        // dials; in memory, connections
	wcount  uint64        // wrapped: Accepts, numbered apart from dials so seeds replay
	accepts atomic.Int64
}

var _ net.Listener = (*Listener)(nil)

// Listen returns an in-memory listener with a 127.0.0.1 address. Dial it with
// its Dial or DialContext method. Options given here apply to every
// connection it makes (BufferSize, Seed, ...); WithFaults applies to the
// server ends.
func Listen(opts ...Option) *Listener {
	l := &Listener{cfg: newConfig(opts), addr: nextAddr(), done: make(chan struct{})}
	l.cond.L = &l.mu
	return l
}

// WrapListener returns ln with fault controls; every connection it accepts
// is wrapped (see Wrap) with opts, and Dial dials ln's address over the real
// network, wrapped too.
func WrapListener(ln net.Listener, opts ...Option) *Listener {
	l := &Listener{cfg: newConfig(opts), addr: ln.Addr(), inner: ln, done: make(chan struct{})}
	l.cond.L = &l.mu
	return l
}

// ListenTCP listens on a real loopback address such as "127.0.0.1:0" and
// wraps the listener. With KernelBuffers(n), both ends of every connection
// (accepted, or dialed with Dial) get kernel buffers of n bytes.
func ListenTCP(addr string, opts ...Option) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return WrapListener(ln, opts...), nil
}

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return l.addr }

// String returns the listener's name and address.
func (l *Listener) String() string { return l.name() + "@" + l.addr.String() }

func (l *Listener) name() string {
	if l.cfg.name != "" {
		return l.cfg.name
	}
	return "conn"
}

// Accept waits for and returns the next connection, a *Conn. It fails with a
// Temporary EMFILE error while FailAccepts says so, and blocks while the
// listener is paused.
func (l *Listener) Accept() (net.Conn, error) {
	l.mu.Lock()
	for {
		switch {
		case l.closed:
			l.mu.Unlock()
			return nil, opError("accept", nil, l.addr, net.ErrClosed)
		case l.fails > 0:
			l.fails--
			l.mu.Unlock()
			return nil, opError("accept", nil, l.addr, errAcceptFull)
		case l.paused:
			l.cond.Wait()
			continue
		}
		if l.inner != nil {
			break
		}
		if len(l.queue) > 0 {
			c := l.queue[0]
			l.queue = l.queue[1:]
			l.cond.Broadcast() // room in the backlog
			l.mu.Unlock()
			return l.accepted(c), nil
		}
		l.cond.Wait()
	}
	l.wcount++
	n := l.wcount
	l.mu.Unlock()
	inner, err := l.inner.Accept()
	if err != nil {
		return nil, err
	}
	return l.accepted(wrap(inner, &l.cfg, n<<1|1, fmt.Sprintf("#%d/server", n))), nil
}

func (l *Listener) accepted(c *Conn) *Conn {
	l.accepts.Add(1)
	for _, f := range l.cfg.faults {
		c.Inject(f)
	}
	if l.cfg.onAccept != nil {
		l.cfg.onAccept(c)
	}
	return c
}

// Accepted returns how many connections Accept has returned.
func (l *Listener) Accepted() int64 { return l.accepts.Load() }

// Close closes the listener: Accept returns net.ErrClosed and dials are
// refused. In memory, connections dialed and not yet accepted are reset, as
// the kernel does when a listening socket closes.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return opError("close", nil, l.addr, net.ErrClosed)
	}
	l.closed = true
	close(l.done)
	queue := l.queue
	l.queue = nil
	holds := l.holds
	l.holds = nil
	l.cond.Broadcast()
	l.mu.Unlock()
	for _, c := range queue {
		c.resetNow()
	}
	for _, h := range holds {
		h.Fail(errRefused)
	}
	if l.inner != nil {
		return l.inner.Close()
	}
	return nil
}

// FailAccepts makes the next k calls to Accept fail at once with EMFILE ("too
// many open files"), a *net.OpError whose Temporary() is true: the error a
// server must back off from and survive. Connections wait in the backlog
// meanwhile.
func (l *Listener) FailAccepts(k int) {
	l.mu.Lock()
	l.fails = max(k, 0)
	l.cond.Broadcast()
	l.mu.Unlock()
}

// PauseAccept makes Accept block until ResumeAccept, as a server that stops
// accepting would: dials still succeed until the backlog is full.
func (l *Listener) PauseAccept() {
	l.mu.Lock()
	l.paused = true
	l.mu.Unlock()
}

// ResumeAccept undoes PauseAccept.
func (l *Listener) ResumeAccept() {
	l.mu.Lock()
	l.paused = false
	l.cond.Broadcast()
	l.mu.Unlock()
}

// Dial connects to the listener. In memory it returns once the connection is
// in the accept queue, as a TCP connect returns once the kernel has
// completed the handshake; with a full queue it blocks (or, under
// RefuseWhenFull, fails with ECONNREFUSED). A wrapped listener's Dial dials
// its address over the real network and wraps the result. ctx bounds the
// wait, including a DialHold.
func (l *Listener) Dial(ctx context.Context) (*Conn, error) {
	if err := l.hold(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.count++
	n := l.count
	if l.inner != nil {
		l.mu.Unlock()
		var d net.Dialer
		inner, err := d.DialContext(ctx, l.addr.Network(), l.addr.String())
		if err != nil {
			return nil, err
		}
		return wrap(inner, &l.cfg, n<<1, fmt.Sprintf("#%d/client", n)), nil
	}
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	for {
		switch {
		case l.closed:
			l.mu.Unlock()
			return nil, opError("dial", nil, l.addr, errRefused)
		case ctx.Err() != nil:
			l.mu.Unlock()
			return nil, opError("dial", nil, l.addr, ctx.Err())
		case len(l.queue) >= l.cfg.backlog:
			if l.cfg.refuseFull {
				l.mu.Unlock()
				return nil, opError("dial", nil, l.addr, errRefused)
			}
			l.cond.Wait()
			continue
		}
		break
	}
	client, server := newPair(&l.cfg, fmt.Sprintf("%s#%d", l.name(), n), n, nextAddr(), l.addr)
	l.queue = append(l.queue, server)
	l.cond.Broadcast()
	l.mu.Unlock()
	return client, nil
}

// DialContext dials the listener whatever network and address are given: a
// drop-in for net.Dialer.DialContext in clients under test (an
// http.Transport's DialContext, say).
func (l *Listener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	c, err := l.Dial(ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}
