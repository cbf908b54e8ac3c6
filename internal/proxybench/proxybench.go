// Package proxybench measures TCP proxies on loopback side by side: round
// trip time, throughput, memory per idle connection, and the zero-window
// fidelity (how many bytes a stalled client absorbs before the server's
// Write blocks). faultnet's benchmarks use it for the direct path and
// faultnet.Proxy; bench/toxiproxy, a benchmark-only module, adds toxiproxy
// to the same run.
//
// Imported by tests only: faultnet's benchmarks, the proxy tests of
// cmd/stallproof and bench/toxiproxy; imports only the standard library
// and package faultnet.
package proxybench

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// A Kind is a way from a client to a server: direct, or a proxy.
type Kind struct {
	Name string
	// Start starts a proxy to upstream (a loopback address) and returns it;
	// tb.Cleanup stops it.
	Start func(tb testing.TB, upstream string) Running
}

// Running is a started proxy.
type Running interface {
	// Addr is where clients connect.
	Addr() string
	// Stall makes the proxy stop taking data from the upstream on every
	// connection, as a client that stops reading does; false if it cannot.
	Stall(tb testing.TB) bool
}

// Direct is no proxy: clients dial the upstream.
var Direct = Kind{"direct", func(_ testing.TB, up string) Running { return direct(up) }}

type direct string

func (d direct) Addr() string        { return string(d) }
func (direct) Stall(testing.TB) bool { return false }

// Faultnet is faultnet.Proxy with opts; Stall injects StallReads into the
// upstream leg of every live connection.
func Faultnet(name string, opts ...faultnet.ProxyOption) Kind {
	return Kind{name, func(tb testing.TB, up string) Running {
		p, err := faultnet.NewProxy("127.0.0.1:0", up, opts...)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { p.Close() })
		return fnProxy{p}
	}}
}

type fnProxy struct{ p *faultnet.Proxy }

func (f fnProxy) Addr() string { return f.p.Addr().String() }

func (f fnProxy) Stall(tb testing.TB) bool {
	deadline := time.Now().Add(10 * time.Second)
	for len(f.p.Conns()) == 0 { // the proxy registers a connection after dialing upstream
		if time.Now().After(deadline) {
			tb.Fatal("the proxy lists no connection")
		}
		time.Sleep(time.Millisecond) // polling the proxy's list
	}
	for _, pc := range f.p.Conns() {
		pc.Inject(faultnet.UpstreamLeg, faultnet.StallReads())
	}
	return true
}

// Upstream is a loopback server for the measurements: it accepts
// connections and hands each to serve in its own goroutine (serve nil: it
// keeps them, idle, with no goroutine). Cleanup closes everything.
type Upstream struct {
	ln       net.Listener
	accepted chan net.Conn
}

// NewUpstream starts an Upstream.
func NewUpstream(tb testing.TB, serve func(net.Conn)) *Upstream {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	u := &Upstream{ln: ln, accepted: make(chan net.Conn, 4096)}
	acceptAll(tb, ln, func(g *group, c net.Conn) {
		g.keep(c)
		select {
		case u.accepted <- c:
		default:
		}
		if serve != nil {
			g.wg.Go(func() { serve(c) })
		}
	})
	return u
}

// group is what a loopback server of this package started: the
// connections to close and the goroutines to wait for at cleanup.
type group struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// keep keeps cs, to be closed at cleanup.
func (g *group) keep(cs ...net.Conn) {
	g.mu.Lock()
	g.conns = append(g.conns, cs...)
	g.mu.Unlock()
}

// acceptAll accepts on ln until it is closed and hands each connection to
// handle, on the accepting goroutine; handle keeps what it must close and
// starts its goroutines with g.wg.Go. tb.Cleanup closes ln, waits for the
// accepting goroutine, closes every connection kept, and waits for every
// goroutine started.
func acceptAll(tb testing.TB, ln net.Listener, handle func(g *group, c net.Conn)) {
	g := &group{}
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(g, c)
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-accepting
		g.mu.Lock()
		for _, c := range g.conns {
			c.Close()
		}
		g.mu.Unlock()
		g.wg.Wait()
	})
}

// Addr returns the upstream's address.
func (u *Upstream) Addr() string { return u.ln.Addr().String() }

// Accepted returns the next connection the upstream accepted.
func (u *Upstream) Accepted(tb testing.TB) net.Conn {
	tb.Helper()
	select {
	case c := <-u.accepted:
		return c
	case <-time.After(10 * time.Second):
		tb.Fatal("the upstream accepted nothing in 10s")
		return nil
	}
}

// Echo writes back what it reads.
func Echo(c net.Conn) { io.Copy(c, c) }

// Discard reads and drops everything.
func Discard(c net.Conn) { io.Copy(io.Discard, c) }

func dial(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// RTT measures b.N round trips of a size-byte message to an echo server
// through k.
func RTT(b *testing.B, k Kind, size int) {
	up := NewUpstream(b, Echo)
	c := dial(b, k.Start(b, up.Addr()).Addr())
	msg := make([]byte, size)
	buf := make([]byte, size)
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// Throughput measures b.N writes of size bytes to a discarding server
// through k, until the server has read them all.
func Throughput(b *testing.B, k Kind, size int) {
	up := NewUpstream(b, nil)
	c := dial(b, k.Start(b, up.Addr()).Addr())
	s := up.Accepted(b)
	b.ReportAllocs()
	pump(b, c, s, size)
}

// pump is the timed part of the throughput benchmarks: b.N writes of size
// bytes to c, until s has read them all.
func pump(b *testing.B, c, s net.Conn, size int) {
	total := int64(b.N) * int64(size)
	done := make(chan error, 1)
	b.SetBytes(int64(size))
	b.ResetTimer()
	go func() {
		_, err := io.CopyN(io.Discard, s, total)
		done <- err
	}()
	msg := make([]byte, size)
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// ThroughputShrunk is Throughput over direct loopback with the socket
// buffers of both sockets set to sockBuf bytes: before the connection is
// made (before), or after it, as faultnet.SetSocketBufferSize and SocketBufferSize
// do.
func ThroughputShrunk(b *testing.B, sockBuf, size int, before bool) {
	var lc net.ListenConfig
	d := net.Dialer{Timeout: 10 * time.Second}
	if before {
		if lc.Control, d.Control = faultnet.SocketBufferControl(sockBuf), faultnet.SocketBufferControl(sockBuf); d.Control == nil {
			b.Skip("cannot set buffers before connecting here")
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		s, _ := ln.Accept()
		accepted <- s
	}()
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	s := <-accepted
	ln.Close()
	if s == nil {
		b.Fatal("accept failed")
	}
	b.Cleanup(func() { c.Close(); s.Close() })
	if !before {
		faultnet.SetSocketBufferSize(c, sockBuf)
		faultnet.SetSocketBufferSize(s, sockBuf)
	}
	pump(b, c, s, size)
}

// liveHeap returns the live heap after a GC.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// stackStart returns the size of a new goroutine's stack.
func stackStart() float64 {
	s := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 2048
	}
	return float64(s[0].Value.Uint64())
}

// IdleConnBytes opens n connections through k to an upstream that keeps
// them idle (no goroutine of its own), and reports per connection, in this
// process: "heap-B/conn", the growth of the live heap; "goroutines/conn";
// and "B/conn", the heap plus a starting-size stack (2 KiB) for each new
// goroutine. Stacks are counted by goroutine because an exited goroutine's
// stack is cached for reuse, so StackInuse undercounts from one iteration
// to the next; a goroutine whose stack grew costs more than counted. The
// test's client and the upstream's server ends are included, so the
// proxy's own cost is the difference from Direct.
func IdleConnBytes(b *testing.B, k Kind, n int) {
	up := NewUpstream(b, nil)
	r := k.Start(b, up.Addr())
	var heap, gs float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before, g0 := liveHeap(), runtime.NumGoroutine()
		b.StartTimer()
		conns := make([]net.Conn, 0, n)
		for range n {
			c, err := net.DialTimeout("tcp", r.Addr(), 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			up.Accepted(b)
		}
		// Let the proxy finish setting up the last connections (it dials
		// the upstream first, then registers and splices).
		time.Sleep(100 * time.Millisecond) // settling before a measurement, not synchronisation
		b.StopTimer()
		after, g1 := liveHeap(), runtime.NumGoroutine()
		heap += float64(after-before) / float64(n)
		gs += float64(g1-g0) / float64(n)
		for _, c := range conns {
			c.Close()
		}
		b.StartTimer()
	}
	heap, gs = heap/float64(b.N), gs/float64(b.N)
	b.ReportMetric(heap, "heap-B/conn")
	b.ReportMetric(gs, "goroutines/conn")
	b.ReportMetric(heap+gs*stackStart(), "B/conn")
}

// noProgress is how long a Write must make no progress for the server to
// count as blocked.
const noProgress = 250 * time.Millisecond

// Cap bounds what a stall measurement writes: past it the server "never
// blocks".
const Cap = 64 << 20

// writeUntilBlocked writes 4 KiB chunks to s until one makes no progress
// for noProgress, or Cap bytes are written, and returns the bytes written.
func writeUntilBlocked(tb testing.TB, s net.Conn) int64 {
	buf := make([]byte, 4<<10)
	var total int64
	for total < Cap {
		s.SetWriteDeadline(time.Now().Add(noProgress))
		n, err := s.Write(buf)
		total += int64(n)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				tb.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
	s.SetWriteDeadline(time.Time{})
	return total
}

// A Stall is a way a client stops reading, for StallAbsorbed.
type Stall struct {
	Kind      Kind
	ClientBuf int  // > 0: the client's socket buffers, shrunk to this
	ServerBuf int  // > 0: the server's socket buffers, shrunk to this
	Proxy     bool // the proxy stops reading from the server (Running.Stall), not the client
}

// StallAbsorbed reports as "bytes" how many bytes a server writes to a
// client that stops reading, as st says, before the server's Write blocks.
// A server that never blocks reports Cap.
func StallAbsorbed(b *testing.B, st Stall) {
	var sum float64
	for range b.N {
		b.StopTimer()
		up := NewUpstream(b, nil)
		r := st.Kind.Start(b, up.Addr())
		c := dial(b, r.Addr())
		if st.ClientBuf > 0 {
			faultnet.SetSocketBufferSize(c, st.ClientBuf)
		}
		s := up.Accepted(b)
		if st.ServerBuf > 0 {
			faultnet.SetSocketBufferSize(s, st.ServerBuf)
		}
		if st.Proxy && !r.Stall(b) {
			b.Skipf("%s cannot stall", st.Kind.Name)
		}
		b.StartTimer()
		sum += float64(writeUntilBlocked(b, s))
		b.StopTimer()
		c.Close()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(sum/float64(b.N), "bytes")
}

// StallAbsorbedMemory is StallAbsorbed for faultnet's in-memory network:
// a Pipe with the default buffer, whose client stops reading.
func StallAbsorbedMemory(b *testing.B) {
	var sum float64
	for range b.N {
		client, server := faultnet.Pipe()
		client.Inject(faultnet.StallReads())
		sum += float64(writeUntilBlocked(b, server))
		client.Close()
		server.Close()
	}
	b.ReportMetric(sum/float64(b.N), "bytes")
}
