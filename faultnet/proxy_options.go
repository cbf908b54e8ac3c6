package faultnet

import (
	"context"
	"fmt"
	"net"
	"time"
)

// DefaultProxySocketBufferSize is the size, in bytes, of the socket buffers
// (SO_SNDBUF, SO_RCVBUF) on both legs of every proxied connection, unless
// ProxySocketBufferSize says otherwise: small, so that when a fault stops one
// leg the program on the other side is stopped after tens of KiB, as by a
// zero window, rather than after the megabytes loopback sockets buffer.
//
// The proxy sets them before each connection is made (on the listening
// socket, whose accepted sockets inherit them, and before dialing), so the
// window scale fits them. Shrunk after the handshake instead, as
// SetSocketBufferSize does, 8 KiB or less leaves the window below one loopback
// segment (64 KiB) and bulk transfers crawl (BenchmarkLoopbackShrunk).
// Smaller buffers also cost throughput, and the server's own send buffer,
// which the proxy cannot shrink, holds far more anyway (up to tcp_wmem's
// maximum, 4 MiB on Linux).
const DefaultProxySocketBufferSize = 32 << 10

// DefaultProxyDialTimeout bounds the proxy's dial to its upstream.
const DefaultProxyDialTimeout = 5 * time.Second

// A ProxyOption configures a Proxy. It prints as the call that made it.
type ProxyOption interface {
	applyProxy(*proxyConfig)
	fmt.Stringer
}

type proxyConfig struct {
	sockBufSize int
	dialTimeout time.Duration
	connOpts    []Option
	faults      []legFault
	logf        func(format string, args ...any)
	dial        func(ctx context.Context, d *net.Dialer, addr string) (net.Conn, error) // nil: d.DialContext
}

type legFault struct {
	leg Leg
	f   Fault
}

func newProxyConfig(opts []ProxyOption) proxyConfig {
	c := proxyConfig{sockBufSize: DefaultProxySocketBufferSize, dialTimeout: DefaultProxyDialTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyProxy(&c)
		}
	}
	return c
}

type proxyOption struct {
	f    func(*proxyConfig)
	desc string
}

func (o proxyOption) applyProxy(c *proxyConfig) { o.f(c) }
func (o proxyOption) String() string            { return o.desc }

// ProxySocketBufferSize sets the socket buffers (SO_SNDBUF, SO_RCVBUF) of
// both legs of every proxied connection to n bytes (default
// DefaultProxySocketBufferSize). 0 or less leaves the kernel's defaults, which
// buy throughput and cost fidelity: a stalled leg then absorbs megabytes
// before its writer blocks.
func ProxySocketBufferSize(n int) ProxyOption {
	return proxyOption{func(c *proxyConfig) { c.sockBufSize = n }, fmt.Sprintf("ProxySocketBufferSize(%d)", n)}
}

// ProxyDialTimeout bounds each dial to the upstream (default
// DefaultProxyDialTimeout).
func ProxyDialTimeout(d time.Duration) ProxyOption {
	return proxyOption{func(c *proxyConfig) { c.dialTimeout = d }, fmt.Sprintf("ProxyDialTimeout(%v)", d)}
}

// ProxyConnOptions gives opts to Wrap for both legs of every proxied
// connection: Seed, OnEvent, ... The proxy names the legs itself
// ("proxy#3/client", "proxy#3/upstream"), after opts.
func ProxyConnOptions(opts ...Option) ProxyOption {
	return proxyOption{func(c *proxyConfig) {
		c.connOpts = append(c.connOpts[:len(c.connOpts):len(c.connOpts)], opts...)
	}, fmt.Sprintf("ProxyConnOptions%v", opts)}
}

// ProxyFaults injects faults into leg of every connection the proxy
// accepts, as Proxy.InjectNew does, from the first connection on.
func ProxyFaults(leg Leg, faults ...Fault) ProxyOption {
	return proxyOption{func(c *proxyConfig) {
		for _, f := range faults {
			c.faults = append(c.faults, legFault{leg, f})
		}
	}, fmt.Sprintf("ProxyFaults(%v, %v)", leg, faults)}
}

// ProxyLogf makes the proxy report what it does to logf: connections opened
// and closed, dials that failed, accept errors. logf must be safe for
// concurrent use.
func ProxyLogf(logf func(format string, args ...any)) ProxyOption {
	return proxyOption{func(c *proxyConfig) { c.logf = logf }, "ProxyLogf(func)"}
}

// ProxyDialer makes the proxy dial its upstream with dial instead of
// directly: for an upstream that only dial can reach (a server in another
// network namespace, say). dial is given the net.Dialer the proxy would
// have used, with its timeout and its socket buffers set before the
// connection is made, and the upstream's address.
func ProxyDialer(dial func(ctx context.Context, d *net.Dialer, addr string) (net.Conn, error)) ProxyOption {
	return proxyOption{func(c *proxyConfig) { c.dial = dial }, "ProxyDialer(...)"}
}
