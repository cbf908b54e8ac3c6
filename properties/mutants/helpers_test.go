package mutants

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// bound is the generous liveness bound: a frozen server is infinitely slow.
const bound = 10 * time.Second

// running is a mutant serving on loopback TCP.
type running struct {
	s      *server
	addr   string
	cancel context.CancelFunc
	errc   chan error

	once sync.Once
	err  error
}

// start runs m on 127.0.0.1:0, with ln wrapped by wrap if given, and stops
// it at cleanup.
func start(t testing.TB, m Mutant, wrap ...func(net.Listener) net.Listener) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := ln
	for _, w := range wrap {
		l = w(l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: m.newServer(slices.Clone(DefaultOptions)), addr: ln.Addr().String(), cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- r.s.serve(ctx, l) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the server and returns what Serve returned, failing t if it
// does not return within the bound.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.errc:
		case <-time.After(bound):
			t.Errorf("Serve did not return within %v of cancel", bound)
		}
	})
	return r.err
}

// smallBuffers shrinks the socket send buffer of every accepted connection,
// so that a client that stops reading blocks the server's Write after tens
// of KiB instead of MiBs.
func smallBuffers(ln net.Listener) net.Listener { return smallBufListener{ln} }

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// failAccepts makes the first n Accepts fail with a temporary error, as
// EMFILE does.
func failAccepts(n int) func(net.Listener) net.Listener {
	return func(ln net.Listener) net.Listener {
		l := &failingListener{Listener: ln}
		l.left.Store(int64(n))
		return l
	}
}

type failingListener struct {
	net.Listener
	left atomic.Int64
}

type temporaryError struct{}

func (temporaryError) Error() string   { return "accept: too many open files (injected)" }
func (temporaryError) Timeout() bool   { return false }
func (temporaryError) Temporary() bool { return true }

func (l *failingListener) Accept() (net.Conn, error) {
	if l.left.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: temporaryError{}}
	}
	return l.Listener.Accept()
}

// testConn is a client connection: a wire.Client, which checks the lines
// it parses against protocol v1, with helpers that fail the test.
type testConn struct {
	*wire.Client
	t    testing.TB
	conn *net.TCPConn
}

// dial connects to addr and reads HELLO, which must offer DefaultOptions.
func dial(t testing.TB, addr string) *testConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &testConn{Client: wire.NewClient(conn), t: t, conn: conn.(*net.TCPConn)}
	c.conn.SetReadDeadline(time.Now().Add(bound))
	if m, err := c.Greet(); err != nil || !slices.Equal(c.Options(), DefaultOptions) {
		t.Fatalf("greeting: %v, %v; want HELLO %s", m, err, strings.Join(DefaultOptions, ","))
	}
	return c
}

// dialStalled connects to addr with a tiny receive buffer, reads HELLO and
// then never reads again.
func dialStalled(t testing.TB, addr string) *testConn {
	t.Helper()
	c := dial(t, addr)
	c.conn.SetReadBuffer(4096)
	return c
}

// stall connects a client that never reads and asks for 2,000 tallies
// (~70 KB of replies), enough to fill its buffers on a server that
// accepted it through smallBuffers, whatever the server conflates.
func stall(t testing.TB, addr string) {
	t.Helper()
	dialStalled(t, addr).send(strings.Repeat("TALLY\n", 2000))
}

func (c *testConn) send(lines ...string) {
	c.t.Helper()
	if err := c.Send(strings.Join(lines, "")); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// lineWithin reads one line, without its terminator, neither parsed nor
// checked, waiting at most d.
func (c *testConn) lineWithin(d time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	line, err := c.ReadLine()
	return string(line), err
}

// expectWithin reads the next line of kind, waiting at most d: the next
// reply if kind is not MsgTally (skipping pushed tallies), else the next
// line, which must be a TALLY. Every line is checked.
func (c *testConn) expectWithin(kind wire.MsgKind, d time.Duration) (wire.Msg, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	var m wire.Msg
	var err error
	if kind == wire.MsgTally {
		m, err = c.Next()
	} else {
		m, err = c.Reply()
	}
	if err == nil && m.Kind != kind {
		err = fmt.Errorf("unexpected line %v", m)
	}
	return m, err
}

// expect is expectWithin the bound, returning the line without its
// terminator; an error fails the test.
func (c *testConn) expect(kind wire.MsgKind) string {
	c.t.Helper()
	m, err := c.expectWithin(kind, bound)
	if err != nil {
		c.t.Fatalf("waiting for %v: %v", kind, err)
	}
	return m.String()
}

// expectEOF reads until the server closes the connection, failing on any
// line other than a pushed tally.
func (c *testConn) expectEOF() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(bound))
	msgs, err := c.Drain()
	for _, m := range msgs {
		if m.Kind != wire.MsgTally {
			c.t.Fatalf("waiting for the server to close: got %v", m)
		}
	}
	if err != nil {
		c.t.Fatalf("waiting for the server to close: %v", err)
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// voter is a client that sends n votes for opt at once while it reads its
// replies and the pushed tallies in the background.
type voter struct {
	c      *testConn
	n      int
	oks    atomic.Int64
	mu     sync.Mutex
	seqs   []uint64 // the OK seqs, in order
	tallys []string // every TALLY line received, in order
	done   chan struct{}
	wg     sync.WaitGroup
}

// vote starts a voter; it stops reading once it has n OKs or the
// connection fails, and is closed at cleanup.
func vote(t testing.TB, addr string, n int, opt string) *voter {
	t.Helper()
	v := &voter{c: dial(t, addr), n: n, done: make(chan struct{})}
	conn := v.c.conn
	conn.SetReadDeadline(time.Time{})
	v.wg.Add(2)
	go func() {
		defer v.wg.Done()
		v.c.Send(strings.Repeat(string(wire.AppendVote(nil, opt)), n))
	}()
	go func() {
		defer v.wg.Done()
		defer close(v.done)
		// Lines are read raw: the bugs these voters show are lines that a
		// checked read would refuse (a torn tally, one that goes back).
		for v.oks.Load() < int64(n) {
			line, err := v.c.ReadLine()
			if err != nil {
				return
			}
			v.mu.Lock()
			if m, err := wire.ParseMsg(string(line), DefaultOptions); err == nil && m.Kind == wire.MsgOK {
				v.seqs = append(v.seqs, m.Seq)
				v.oks.Add(1)
			} else if wire.KindOf(line) == wire.MsgTally {
				v.tallys = append(v.tallys, string(line))
			}
			v.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		v.wg.Wait()
	})
	return v
}

// wait waits, at most d, for the voter to stop reading and reports whether it
// got all its OKs.
func (v *voter) wait(d time.Duration) bool {
	select {
	case <-v.done:
	case <-time.After(d):
	}
	return v.oks.Load() == int64(v.n)
}

// results returns copies of what the voter received.
func (v *voter) results() (seqs []uint64, tallys []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.seqs), slices.Clone(v.tallys)
}

func caughtBy(m Mutant, props ...string) bool {
	for _, p := range props {
		if slices.Contains(m.Caught, p) {
			return true
		}
	}
	return false
}

// queued returns the bytes an outbox-based sink holds for its client.
func queued(sk sink) (n int, ok bool) {
	var o *outbox
	switch sk := sk.(type) {
	case *outbox:
		o = sk
	case unbounded:
		o = sk.outbox
	case unguarded:
		o = sk.outbox
	default:
		return 0, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.replies) + len(o.tally), true
}

// untilSeen runs rounds of concurrent voters (one per option, each
// pipelining votes) against r until seen reports the bug in what they
// received, and fails t if it never does within twice the bound.
func untilSeen(t *testing.T, r *running, seen func(vs []*voter) (string, bool)) {
	t.Helper()
	var all []*voter
	for round, deadline := 1, time.Now().Add(2*bound); time.Now().Before(deadline); round++ {
		var vs []*voter
		for _, opt := range DefaultOptions {
			vs = append(vs, vote(t, r.addr, 500, opt))
		}
		for i, v := range vs {
			if !v.wait(bound) {
				t.Fatalf("round %d: voter %d got %d of %d OKs", round, i, v.oks.Load(), v.n)
			}
		}
		all = append(all, vs...)
		if what, ok := seen(all); ok {
			t.Logf("round %d: %s", round, what)
			return
		}
	}
	t.Fatal("the bug never showed")
}
