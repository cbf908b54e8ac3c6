package faultnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotLoopback is returned by NewProxy for an address that is not on the
// loopback interface: a proxy serves and reaches only this machine.
var ErrNotLoopback = errors.New("not a loopback address (127.0.0.0/8, ::1 or localhost)")

// Proxy is a TCP proxy on the loopback interface that puts faultnet's faults
// between a real client and a real server, whatever language either is
// written in. Each connection it accepts is spliced (see Splice) to a new
// connection to the upstream address; both legs are *Conn wrappers with
// small socket buffers, so every Fault applies, with its schedule, to either
// leg, at any time:
//
//   - on the UpstreamLeg, the proxy is the client as the server sees it:
//     StallReads there is a client that stops reading (the server's Write
//     blocks after tens of KiB), Reset is a client's RST, CloseWrite its
//     half-close;
//   - on the ClientLeg, the proxy is the server as the client sees it.
//
// Back-pressure, half-close and reset pass through as they would between the
// two peers. Faults go to one connection (ProxyConn.Inject) or to every new
// one (InjectNew, ProxyFaults). Each connection keeps its counters and event
// log. Close stops the proxy and waits for every goroutine it started.
type Proxy struct {
	cfg      proxyConfig
	ln       net.Listener
	upstream string
	ctx      context.Context // cancelled by Close: ends dials
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu     sync.Mutex
	closed bool
	nextID uint64
	conns  map[uint64]*ProxyConn
	rules  []*ProxyFault
	ruleID uint64

	accepted   atomic.Int64
	dialErrors atomic.Int64
	lastDial   atomic.Pointer[string]
}

// ProxyStats are a proxy's counters.
type ProxyStats struct {
	Accepted      int64  // connections accepted from clients
	Live          int    // connections being proxied now
	DialErrors    int64  // accepted connections reset because the upstream could not be dialed
	LastDialError string // the last such dial error, or ""
}

// NewProxy listens on listen, a loopback address ("127.0.0.1:0" picks a
// port), and proxies every connection to upstream, also a loopback
// address. Either address off the loopback interface is refused with an
// error wrapping ErrNotLoopback. The upstream is dialed once per accepted
// connection; when it cannot be reached the client's connection is reset and
// the proxy counts a dial error (Stats).
func NewProxy(listen, upstream string, opts ...ProxyOption) (*Proxy, error) {
	if err := checkLoopback("listen", listen); err != nil {
		return nil, err
	}
	if err := checkLoopback("upstream", upstream); err != nil {
		return nil, err
	}
	cfg := newProxyConfig(opts)
	var lc net.ListenConfig
	if cfg.sockBufSize > 0 {
		lc.Control = SocketBufferControl(cfg.sockBufSize) // accepted sockets inherit them
	}
	ln, err := lc.Listen(context.Background(), "tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("faultnet: proxy: %w", err)
	}
	p := &Proxy{cfg: cfg, ln: ln, upstream: upstream, conns: make(map[uint64]*ProxyConn)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for _, lf := range cfg.faults {
		p.InjectNew(lf.leg, lf.f)
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// checkLoopback returns an error unless addr is host:port with a loopback
// host.
func checkLoopback(what, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("faultnet: proxy %s address %q: %v", what, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("faultnet: proxy %s address %q: %w", what, addr, ErrNotLoopback)
}

// Addr returns the address the proxy listens on: where clients connect.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Upstream returns the address the proxy dials.
func (p *Proxy) Upstream() string { return p.upstream }

// String describes the proxy: "proxy 127.0.0.1:41000 -> 127.0.0.1:9000".
func (p *Proxy) String() string { return fmt.Sprintf("proxy %v -> %s", p.Addr(), p.upstream) }

func (p *Proxy) logf(format string, args ...any) {
	if p.cfg.logf != nil {
		p.cfg.logf(format, args...)
	}
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as net/http
			// does, 5 ms doubling to 1 s, and stop at once on Close.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.logf("%v: accept: %v; retrying in %v", p, err, backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve dials the upstream for the accepted connection c and splices the
// two until both directions end.
func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.mu.Unlock()
	d := net.Dialer{Timeout: p.cfg.dialTimeout}
	if p.cfg.sockBufSize > 0 {
		if d.Control = SocketBufferControl(p.cfg.sockBufSize); d.Control == nil {
			_ = SetSocketBufferSize(c, p.cfg.sockBufSize) // too late for the window scale, but smaller
		}
	}
	var uc net.Conn
	var err error
	if p.cfg.dial != nil {
		uc, err = p.cfg.dial(p.ctx, &d, p.upstream)
	} else {
		uc, err = d.DialContext(p.ctx, "tcp", p.upstream)
	}
	if err != nil {
		p.dialErrors.Add(1)
		msg := err.Error()
		p.lastDial.Store(&msg)
		p.logf("%v: connection %d from %v: reset: %v", p, id, c.RemoteAddr(), err)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
		return
	}
	pc := p.newConn(id, c, uc)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = pc.client.Close()
		_ = pc.upstream.Close()
		return
	}
	// The rules go in before the connection is listed, under the lock that
	// InjectNew takes: whoever sees the connection in Conns sees it with
	// every fault in place for new connections at that moment.
	for _, r := range p.rules {
		r.apply(pc)
	}
	p.conns[id] = pc
	p.mu.Unlock()
	p.logf("%v: connection %d from %v", p, id, c.RemoteAddr())
	// The splice's last goroutine cleans up: no goroutine waits for it.
	p.wg.Add(1)
	startSplice(pc.client, pc.upstream, func(s *Spliced) {
		defer p.wg.Done()
		p.ended(pc, s.Wait())
	})
}

// ended forgets a connection whose splice has ended.
func (p *Proxy) ended(pc *ProxyConn, err error) {
	p.mu.Lock()
	delete(p.conns, pc.id)
	rules := slices.Clone(p.rules)
	p.mu.Unlock()
	for _, r := range rules {
		r.forget(pc)
	}
	close(pc.done)
	st := pc.Stats()
	if err != nil {
		p.logf("%v: connection %d closed after %d bytes up, %d down: %v", p, pc.id, st.Up, st.Down, err)
	} else {
		p.logf("%v: connection %d closed after %d bytes up, %d down", p, pc.id, st.Up, st.Down)
	}
}

// Conns returns the connections being proxied now, oldest first.
func (p *Proxy) Conns() []*ProxyConn {
	p.mu.Lock()
	out := make([]*ProxyConn, 0, len(p.conns))
	for _, pc := range p.conns {
		out = append(out, pc)
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b *ProxyConn) int { return int(a.id) - int(b.id) })
	return out
}

// Conn returns the live connection with the given ID, or nil.
func (p *Proxy) Conn(id uint64) *ProxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[id]
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() ProxyStats {
	st := ProxyStats{Accepted: p.accepted.Load(), DialErrors: p.dialErrors.Load()}
	if s := p.lastDial.Load(); s != nil {
		st.LastDialError = *s
	}
	p.mu.Lock()
	st.Live = len(p.conns)
	p.mu.Unlock()
	return st
}

// Close stops accepting, closes every proxied connection (both legs: their
// peers read what was already sent, then io.EOF) and waits until every
// goroutine the proxy started has returned. A second Close returns an error
// wrapping net.ErrClosed.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("faultnet: %v: %w", p, net.ErrClosed)
	}
	p.closed = true
	conns := make([]*ProxyConn, 0, len(p.conns))
	for _, pc := range p.conns {
		conns = append(conns, pc)
	}
	p.mu.Unlock()
	p.cancel()
	err := p.ln.Close()
	for _, pc := range conns {
		_ = pc.client.Close()
		_ = pc.upstream.Close()
	}
	// Every blocking call of the proxy's goroutines is on a connection or
	// listener closed above, so this wait is short; if it is not, say what
	// is stuck, once.
	warned := make(chan struct{})
	t := time.AfterFunc(closeWarnAfter, func() {
		defer close(warned)
		var names []string
		for _, pc := range p.Conns() {
			names = append(names, pc.String())
		}
		p.logf("%v: Close has waited %v for connections %v and the accept loop", p, closeWarnAfter, names)
	})
	p.wg.Wait()
	if !t.Stop() {
		<-warned
	}
	return err
}

// closeWarnAfter is how long Close waits before it logs what it waits for.
const closeWarnAfter = 5 * time.Second
