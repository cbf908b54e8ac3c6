package faultnet

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
)

// Listener is an in-memory listener (Listen) or a real one wrapped
// (WrapListener, ListenTCP). Either way every accepted connection is a
// *Conn, and the test controls the accept loop: FailAccepts, PauseAccept,
// and dial holds.
type Listener struct {
	// A Listener is a front: the accept controls and dial holds are its
	// own; connections come from t, an in-memory backlog (memBacklog,
	// pipe.go) or a real listener (sockListener, wrap.go).
	cfg  config
	addr net.Addr
	t    listenTransport

	mu      sync.Mutex
	cond    sync.Cond
	closed  bool
	fails   int // Accepts left to fail
	paused  bool
	holds   []*DialHold
	done    chan struct{} // closed by Close: releases held dials
	count   uint64        // dials
	accepts atomic.Int64
}

var _ net.Listener = (*Listener)(nil)

// listenTransport is where a Listener's connections come from.
type listenTransport interface {
	// accept returns the next connection. It is called with l.mu held
	// and returns with it released; it waits on l.cond, through
	// l.admit, while the front's controls hold accepts back.
	accept(l *Listener) (*Conn, error)
	// dial connects to the listener, after any hold, numbering the
	// connection with l.nextDial.
	dial(ctx context.Context, l *Listener) (*Conn, error)
	// close closes the transport once the front is marked closed.
	close(l *Listener) error
}

func newListener(addr net.Addr, t listenTransport, opts []Option) *Listener {
	l := &Listener{cfg: newConfig(opts), addr: addr, t: t, done: make(chan struct{})}
	l.cond.L = &l.mu
	return l
}

// Listen returns an in-memory listener with a 127.0.0.1 address. Dial it with
// its Dial or DialContext method. Options given here apply to every
// connection it makes (BufferSize, Seed, ...); WithFaults applies to the
// server ends.
func Listen(opts ...Option) *Listener {
	return newListener(nextAddr(), &memBacklog{}, opts)
}

// WrapListener returns ln with fault controls; every connection it accepts
// is wrapped (see Wrap) with opts, and Dial dials ln's address over the real
// network, wrapped too.
func WrapListener(ln net.Listener, opts ...Option) *Listener {
	return newListener(ln.Addr(), &sockListener{inner: ln}, opts)
}

// ListenTCP listens on a real loopback address such as "127.0.0.1:0" and
// wraps the listener. With SocketBufferSize(n), both ends of every connection
// (accepted, or dialed with Dial) get socket buffers of n bytes.
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
	c, err := l.t.accept(l)
	if err != nil {
		return nil, err
	}
	l.accepts.Add(1)
	for _, f := range l.cfg.faults {
		c.Inject(f)
	}
	if l.cfg.onAccept != nil {
		l.cfg.onAccept(c)
	}
	return c, nil
}

// admit applies the accept controls, with l.mu held: it returns the error
// an Accept must fail with, or reports whether the Accept may go on now
// (false while paused: the caller waits on l.cond and asks again).
func (l *Listener) admit() (ok bool, err error) {
	switch {
	case l.closed:
		return false, opError("accept", nil, l.addr, net.ErrClosed)
	case l.fails > 0:
		l.fails--
		return false, opError("accept", nil, l.addr, errAcceptFull)
	}
	return !l.paused, nil
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
	holds := l.holds
	l.holds = nil
	l.cond.Broadcast()
	l.mu.Unlock()
	for _, h := range holds {
		h.Fail(errRefused)
	}
	return l.t.close(l)
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
	return l.t.dial(ctx, l)
}

// nextDial numbers a dial. Caller holds l.mu.
func (l *Listener) nextDial() uint64 {
	l.count++
	return l.count
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
