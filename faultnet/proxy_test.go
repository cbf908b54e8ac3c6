package faultnet_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/faultnet"
)

// upstream is a loopback TCP server for proxy tests: it hands each
// connection it accepts to handle, in a goroutine, and Cleanup closes the
// listener and the connections and waits for the goroutines.
type upstream struct {
	ln    net.Listener
	conns chan net.Conn // every accepted connection, for the test
	wg    sync.WaitGroup
}

func newUpstream(t testing.TB, handle func(net.Conn)) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{ln: ln, conns: make(chan net.Conn, 64)}
	var mu sync.Mutex
	var all []net.Conn
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			all = append(all, c)
			mu.Unlock()
			u.conns <- c
			if handle != nil {
				u.wg.Add(1)
				go func() {
					defer u.wg.Done()
					handle(c)
				}()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range all {
			c.Close()
		}
		mu.Unlock()
		u.wg.Wait()
	})
	return u
}

func (u *upstream) addr() string { return u.ln.Addr().String() }

// accepted returns the next connection the upstream accepted.
func (u *upstream) accepted(t testing.TB) net.Conn {
	t.Helper()
	select {
	case c := <-u.conns:
		return c
	case <-time.After(liveness):
		t.Fatal("the upstream accepted no connection")
		return nil
	}
}

// echo copies what it reads back, and half-closes after the client's EOF.
func echo(c net.Conn) {
	io.Copy(c, c)
	c.(*net.TCPConn).CloseWrite()
}

func newProxy(t testing.TB, up string, opts ...faultnet.ProxyOption) *faultnet.Proxy {
	t.Helper()
	p, err := faultnet.NewProxy("127.0.0.1:0", up, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dialProxy(t testing.TB, p *faultnet.Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// liveConn waits until the proxy lists exactly n live connections and
// returns the newest.
func liveConn(t testing.TB, p *faultnet.Proxy, n int) *faultnet.ProxyConn {
	t.Helper()
	deadline := time.Now().Add(liveness)
	for {
		if cs := p.Conns(); len(cs) == n {
			if n == 0 {
				return nil
			}
			return cs[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy lists %d connections, want %d", len(p.Conns()), n)
		}
		time.Sleep(time.Millisecond) // polling the proxy's list, not synchronising a result
	}
}

func TestProxyEchoAndStats(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, echo)
	p := newProxy(t, u.addr())
	c := dialProxy(t, p)
	want := pattern(200 << 10)
	go c.Write(want)
	if got := readN(t, c, len(want)); !bytes.Equal(got, want) {
		t.Fatal("echo through the proxy corrupted the data")
	}
	pc := liveConn(t, p, 1)
	// The client can read bytes before the proxy's Write that sent them
	// has returned and counted them.
	st := pc.Stats()
	for deadline := time.Now().Add(liveness); (st.Up < int64(len(want)) || st.Down < int64(len(want))) && time.Now().Before(deadline); st = pc.Stats() {
		time.Sleep(time.Millisecond) // polling a counter
	}
	if st.ID != 1 || st.Up != int64(len(want)) || st.Down != int64(len(want)) || st.ClientAddr != c.LocalAddr().String() {
		t.Fatalf("stats = %+v, want ID 1, %d bytes each way, client %v", st, len(want), c.LocalAddr())
	}
	if ps := p.Stats(); ps.Accepted != 1 || ps.Live != 1 || ps.DialErrors != 0 {
		t.Fatalf("proxy stats = %+v", ps)
	}
	if s := pc.Leg(faultnet.UpstreamLeg).String(); s != "proxy#1/upstream" {
		t.Fatalf("upstream leg named %q", s)
	}
}

// TestProxyBackPressure: a client that stops reading stops the upstream
// server's Write after a bounded number of bytes (the buffers on the way,
// not megabytes), and the server resumes when the client reads again.
func TestProxyBackPressure(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, nil)
	p := newProxy(t, u.addr())
	c := dialProxy(t, p)
	faultnet.SetSocketBufferSize(c, faultnet.DefaultProxySocketBufferSize) // the client's own socket, as a test client's would be
	s := u.accepted(t)
	faultnet.SetSocketBufferSize(s, faultnet.DefaultProxySocketBufferSize)
	// The client reads nothing. Loopback sockets with the kernel's default
	// buffers absorb about 4 MiB; five small ones and the splice's chunk,
	// a few hundred KiB.
	absorbed := writeUntilBlocked(t, s, 16<<20)
	t.Logf("a stalled client absorbed %d bytes through the proxy", absorbed)
	if absorbed > 1<<20 {
		t.Fatalf("the server wrote %d bytes before blocking; want under 1 MiB", absorbed)
	}
	// The client reads: the server's next Write completes.
	more := pattern(256 << 10)
	w := writeAsync(s, more)
	stillBlocked(t, w, "the server's write to a stalled client")
	got := readN(t, c, absorbed+len(more))
	if r := await(t, w); r.err != nil || r.n != len(more) {
		t.Fatalf("the server's write after the client resumed = %d, %v", r.n, r.err)
	}
	if !bytes.Equal(got[absorbed:], more) {
		t.Fatal("bytes written after the stall arrived corrupted")
	}
}

// TestProxyStallFault: StallReads on the upstream leg is a client that stops
// reading, as the server sees it; removing it lets the data through.
func TestProxyStallFault(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, nil)
	p := newProxy(t, u.addr())
	c := dialProxy(t, p)
	s := u.accepted(t)
	faultnet.SetSocketBufferSize(s, faultnet.DefaultProxySocketBufferSize)
	inj := liveConn(t, p, 1).Inject(faultnet.UpstreamLeg, faultnet.StallReads())
	absorbed := writeUntilBlocked(t, s, 16<<20)
	if absorbed > 512<<10 {
		t.Fatalf("the server wrote %d bytes before blocking; want under 512 KiB", absorbed)
	}
	inj.Remove()
	readN(t, c, absorbed)
}

func TestProxyForwardsHalfClose(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, echo)
	p := newProxy(t, u.addr())
	c := dialProxy(t, p)
	c.Write([]byte("last words"))
	c.CloseWrite()
	// echo sees io.EOF only if the half-close came through, then answers
	// and half-closes in turn.
	got, err := readAll(c)
	if string(got) != "last words" || err != io.EOF {
		t.Fatalf("read %q, %v; want the echo then io.EOF", got, err)
	}
	liveConn(t, p, 0) // both directions ended: the proxy dropped the connection
}

func TestProxyForwardsClientReset(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, nil)
	p := newProxy(t, u.addr())
	c := dialProxy(t, p)
	s := u.accepted(t)
	c.Write([]byte("x"))
	readN(t, s, 1)
	c.SetLinger(0)
	c.Close()
	_, err := readAll(s)
	wantErrno(t, err, "read", syscall.ECONNRESET)
}

func TestProxyResetFaultResetsBothSides(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, nil)
	p := newProxy(t, u.addr())
	c := dialProxy(t, p)
	s := u.accepted(t)
	pc := liveConn(t, p, 1)
	pc.Inject(faultnet.UpstreamLeg, faultnet.Reset())
	_, err := readAll(s)
	wantErrno(t, err, "read", syscall.ECONNRESET)
	_, err = readAll(c)
	wantErrno(t, err, "read", syscall.ECONNRESET)
	select {
	case <-pc.Done():
	case <-time.After(liveness):
		t.Fatal("the proxied connection did not end after a reset")
	}
	var kinds []string
	for _, e := range pc.Events() {
		kinds = append(kinds, e.Kind.String())
	}
	// The legs end concurrently: another leg's close may be logged
	// between the injection and the reset.
	if i := slices.Index(kinds, "inject"); i < 0 || !slices.Contains(kinds[i+1:], "reset") {
		t.Fatalf("events %v; want the injection and, after it, the reset", kinds)
	}
}

func TestProxyRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ listen, up string }{
		{"0.0.0.0:0", "127.0.0.1:9"},
		{":0", "127.0.0.1:9"},
		{"192.0.2.1:0", "127.0.0.1:9"},
		{"127.0.0.1:0", "192.0.2.1:80"},
		{"127.0.0.1:0", "example.com:80"},
	} {
		p, err := faultnet.NewProxy(tc.listen, tc.up)
		if err == nil {
			p.Close()
			t.Errorf("NewProxy(%q, %q) succeeded", tc.listen, tc.up)
			continue
		}
		if !errors.Is(err, faultnet.ErrNotLoopback) || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("NewProxy(%q, %q) = %v; want ErrNotLoopback", tc.listen, tc.up, err)
		}
	}
	if _, err := faultnet.NewProxy("127.0.0.1", "127.0.0.1:9"); err == nil || !strings.Contains(err.Error(), "missing port") {
		t.Errorf("NewProxy without a port = %v", err)
	}
}

// TestProxyUpstreamRefuses: when the upstream refuses, the client's
// connection is reset and the proxy counts and reports the dial error.
func TestProxyUpstreamRefuses(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	var mu sync.Mutex
	var logs []string
	p := newProxy(t, dead, faultnet.ProxyLogf(func(f string, args ...any) {
		mu.Lock()
		logs = append(logs, f)
		mu.Unlock()
	}))
	// The proxy accepts, then resets: the client meets the reset when it
	// connects or when it reads, depending on timing.
	c, err := net.Dial("tcp", p.Addr().String())
	if err == nil {
		defer c.Close()
		_, err = readAll(c)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client: %v; want ECONNRESET", err)
	}
	st := p.Stats()
	if st.DialErrors != 1 || !strings.Contains(st.LastDialError, "refused") || st.Live != 0 {
		t.Fatalf("stats = %+v; want one dial error, connection refused", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) == 0 {
		t.Fatal("the dial error was not logged")
	}
}

// TestProxyInjectNew: a fault for every new connection reaches new
// connections only, and Remove takes it out of them.
func TestProxyInjectNew(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, echo)
	p := newProxy(t, u.addr())
	dialProxy(t, p)
	old := liveConn(t, p, 1)
	r := p.InjectNew(faultnet.ClientLeg, faultnet.ShortWrites(3))
	if got := p.Faults(); len(got) != 1 || got[0].String() != "client: ShortWrites(3)" {
		t.Fatalf("Faults() = %v", got)
	}
	dialProxy(t, p)
	pc := liveConn(t, p, 2)
	if f := pc.Leg(faultnet.ClientLeg).Stats().Faults; len(f) != 1 || f[0] != "ShortWrites(3)" {
		t.Fatalf("new connection's faults = %v", f)
	}
	if f := old.Leg(faultnet.ClientLeg).Stats().Faults; len(f) != 0 {
		t.Fatalf("old connection's faults = %v, want none", f)
	}
	r.Remove()
	if f := pc.Leg(faultnet.ClientLeg).Stats().Faults; len(f) != 0 {
		t.Fatalf("after Remove the connection's faults = %v, want none", f)
	}
	if len(p.Faults()) != 0 {
		t.Fatal("Remove left the fault listed")
	}
}

// TestProxyCloseLeavesNoGoroutine: Close with connections live, one of them
// stalled with a server blocked writing to it, returns promptly and leaves
// no goroutine behind.
func TestProxyCloseLeavesNoGoroutine(t *testing.T) {
	u := newUpstream(t, nil) // its accept loop ends in Cleanup, after the check
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	func() {
		p, err := faultnet.NewProxy("127.0.0.1:0", u.addr(), faultnet.ProxyFaults(faultnet.UpstreamLeg, faultnet.StallReads()))
		if err != nil {
			t.Fatal(err)
		}
		var clients []net.Conn
		for range 3 {
			c, err := net.Dial("tcp", p.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
		}
		s := u.accepted(t)
		w := writeAsync(s, make([]byte, 8<<20))
		stillBlocked(t, w, "a write to a stalled client")
		liveConn(t, p, 3)
		pcs := p.Conns()
		done := make(chan error, 1)
		go func() { done <- p.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Close = %v", err)
			}
		case <-time.After(liveness):
			t.Fatal("Close still waiting")
		}
		// Close waited for every connection to end (goleak below would give
		// stragglers time to finish, so check at once).
		for _, pc := range pcs {
			select {
			case <-pc.Done():
			default:
				t.Errorf("Close returned before %v ended", pc)
			}
		}
		if n := len(p.Conns()); n != 0 {
			t.Errorf("after Close the proxy lists %d connections", n)
		}
		if err := p.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v, want net.ErrClosed", err)
		}
		for _, c := range clients {
			c.Close()
		}
		await(t, w)
	}()
}
