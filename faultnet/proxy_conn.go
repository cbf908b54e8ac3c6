package faultnet

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// A Leg is one of the two TCP connections of a proxied connection.
type Leg uint8

// The legs of a proxied connection.
const (
	// ClientLeg is the connection between the client and the proxy: faults
	// here are the server's, as the client sees them.
	ClientLeg Leg = iota + 1
	// UpstreamLeg is the connection between the proxy and the upstream
	// server: faults here are the client's, as the server sees them.
	UpstreamLeg
)

// String returns "client" or "upstream".
func (l Leg) String() string {
	switch l {
	case ClientLeg:
		return "client"
	case UpstreamLeg:
		return "upstream"
	}
	return fmt.Sprintf("Leg(%d)", uint8(l))
}

// ProxyConn is one connection through a Proxy: a client's connection and
// the proxy's connection to the upstream for it.
type ProxyConn struct {
	id       uint64
	client   *Conn
	upstream *Conn
	started  time.Time
	offset   time.Duration // when the upstream leg was wrapped, after the client leg
	done     chan struct{}
}

func (p *Proxy) newConn(id uint64, c, uc net.Conn) *ProxyConn {
	pc := &ProxyConn{id: id, started: time.Now(), done: make(chan struct{})}
	opts := func(leg Leg) []Option {
		return append(slices.Clone(p.cfg.connOpts), Name(fmt.Sprintf("proxy#%d/%v", id, leg)))
	}
	pc.client = Wrap(c, opts(ClientLeg)...)
	if p.cfg.sockBufSize > 0 && SocketBufferControl(0) == nil {
		_ = SetSocketBufferSize(uc, p.cfg.sockBufSize)
	}
	pc.offset = time.Since(pc.started)
	pc.upstream = Wrap(uc, opts(UpstreamLeg)...)
	return pc
}

// ID returns the connection's number, from 1 in the order of acceptance.
func (pc *ProxyConn) ID() uint64 { return pc.id }

// String returns the connection's name: "proxy#3".
func (pc *ProxyConn) String() string { return fmt.Sprintf("proxy#%d", pc.id) }

// Leg returns the proxy's end of the given leg: the connection to the client
// or to the upstream. Inject faults into it, read its Stats and Events.
func (pc *ProxyConn) Leg(l Leg) *Conn {
	if l == ClientLeg {
		return pc.client
	}
	return pc.upstream
}

// Inject injects f into the given leg, as Conn.Inject does.
func (pc *ProxyConn) Inject(l Leg, f Fault) *Injection { return pc.Leg(l).Inject(f) }

// Done returns a channel closed once the connection has ended: both
// directions finished and both legs closed.
func (pc *ProxyConn) Done() <-chan struct{} { return pc.done }

// ProxyConnStats are the counters of a proxied connection.
type ProxyConnStats struct {
	ID         uint64
	ClientAddr string // the client's address
	// UpstreamLocal is the proxy's address on the upstream leg: the
	// client's address as the server sees it (in its logs, in Accept).
	UpstreamLocal string
	Started       time.Time // when the proxy accepted it
	Up            int64     // bytes written to the upstream
	Down          int64     // bytes written to the client
	Client        Stats     // the client leg's counters, as Conn.Stats
	Upstream      Stats     // the upstream leg's counters
}

// Stats returns the connection's counters.
func (pc *ProxyConn) Stats() ProxyConnStats {
	cs, us := pc.client.Stats(), pc.upstream.Stats()
	return ProxyConnStats{
		ID: pc.id, ClientAddr: pc.client.RemoteAddr().String(), UpstreamLocal: pc.upstream.LocalAddr().String(), Started: pc.started,
		Up: us.Written, Down: cs.Written, Client: cs, Upstream: us,
	}
}

// Events returns the event logs of both legs merged, oldest first, with
// times measured from when the proxy accepted the connection. Events about
// the connection as a whole are logged on the leg they concern: the
// splice's EventFarClose (the server closed its socket while the client
// was not reading) on the client leg; an event about the server's socket
// belongs on the upstream leg.
func (pc *ProxyConn) Events() []Event {
	evs := pc.client.Events()
	for _, e := range pc.upstream.Events() {
		e.At += pc.offset
		evs = append(evs, e)
	}
	slices.SortStableFunc(evs, func(a, b Event) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return evs
}

// ProxyFault is a fault that a Proxy injects into one leg of every new
// connection, until removed.
type ProxyFault struct {
	p   *Proxy
	id  uint64
	leg Leg
	f   Fault

	mu      sync.Mutex
	removed bool
	injs    map[*ProxyConn]*Injection
}

// InjectNew makes the proxy inject f into leg of every connection it
// accepts from now on, until the returned ProxyFault is removed. Live
// connections are left alone: inject into them with ProxyConn.Inject.
func (p *Proxy) InjectNew(leg Leg, f Fault) *ProxyFault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ruleID++
	r := &ProxyFault{p: p, id: p.ruleID, leg: leg, f: f, injs: make(map[*ProxyConn]*Injection)}
	p.rules = append(p.rules, r)
	return r
}

// Faults returns the faults injected into every new connection, oldest
// first.
func (p *Proxy) Faults() []*ProxyFault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.rules)
}

// ID returns the fault's number, from 1 in the order of InjectNew.
func (r *ProxyFault) ID() uint64 { return r.id }

// Leg returns the leg the fault is injected into.
func (r *ProxyFault) Leg() Leg { return r.leg }

// Fault returns the fault.
func (r *ProxyFault) Fault() Fault { return r.f }

// String describes the fault: "upstream: StallReads()".
func (r *ProxyFault) String() string { return fmt.Sprintf("%v: %v", r.leg, r.f) }

// Remove stops injecting the fault into new connections and removes it
// from the live connections it was injected into (see Injection.Remove).
// It is idempotent.
func (r *ProxyFault) Remove() {
	r.p.mu.Lock()
	r.p.rules = slices.DeleteFunc(r.p.rules, func(x *ProxyFault) bool { return x == r })
	r.p.mu.Unlock()
	r.mu.Lock()
	r.removed = true
	injs := r.injs
	r.injs = nil
	r.mu.Unlock()
	for _, inj := range injs {
		inj.Remove()
	}
}

func (r *ProxyFault) apply(pc *ProxyConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.removed {
		return
	}
	r.injs[pc] = pc.Inject(r.leg, r.f)
}

func (r *ProxyFault) forget(pc *ProxyConn) {
	r.mu.Lock()
	delete(r.injs, pc)
	r.mu.Unlock()
}
