package server

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/wire"
)

// bound is the liveness bound of every wait in these tests: generous,
// because a frozen server is infinitely slow and a loaded CI machine is not.
const bound = 10 * time.Second

// newServer returns a server for cfg that is closed when the test ends.
func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// listenTCP returns a loopback listener.
func listenTCP(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return ln
}

// serve runs s.Serve on ln in a goroutine; the test's cleanup closes s
// and fails the test, saying what is stuck, unless Serve returns nil
// within the bound.
func serve(t testing.TB, s *Server, ln net.Listener) {
	t.Helper()
	harness.StartT(t, s.Serve, ln, bound, harness.Config{Name: "server", Close: func() { s.Close() }})
}

// A transport is a network the server is tested over: faultnet's
// in-memory network, or real loopback TCP wrapped by faultnet. Either way
// every client conn is a *faultnet.Conn. Over TCP the server's send buffer
// and the client's receive buffer are small, so that a client that stops
// reading stalls the server's writes after kilobytes, not megabytes; the
// other direction keeps its normal buffers (tiny buffers both ways make
// loopback TCP crawl on zero-window probes).
type transport struct {
	name   string
	listen func(t testing.TB) *faultnet.Listener
	dialed func(c *faultnet.Conn) // adjusts a new client conn
}

const sockBuf = 4096

var transports = []transport{
	{
		name: "mem",
		listen: func(t testing.TB) *faultnet.Listener {
			return faultnet.Listen(faultnet.BufferSize(16 << 10))
		},
		dialed: func(*faultnet.Conn) {},
	},
	{
		name: "tcp",
		listen: func(t testing.TB) *faultnet.Listener {
			ln, err := faultnet.ListenTCP("127.0.0.1:0", faultnet.OnAccept(func(c *faultnet.Conn) { c.SetWriteBuffer(sockBuf) }))
			if err != nil {
				t.Fatalf("listen: %v", err)
			}
			return ln
		},
		dialed: func(c *faultnet.Conn) { c.SetReadBuffer(sockBuf) },
	},
}

// forEachTransport runs f as a subtest per transport.
func forEachTransport(t *testing.T, f func(t *testing.T, tr transport)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { f(t, tr) })
	}
}

// env is a running server and the listener its clients dial.
type env struct {
	s  *Server
	ln *faultnet.Listener
	tr transport
}

// start runs a server for cfg over tr; setup, if not nil, may adjust the
// server before it serves.
func start(t testing.TB, tr transport, cfg Config, setup func(*Server)) *env {
	t.Helper()
	s := newServer(t, cfg)
	if setup != nil {
		setup(s)
	}
	ln := tr.listen(t)
	serve(t, s, ln)
	return &env{s: s, ln: ln, tr: tr}
}

// conn dials the server without reading anything.
func (e *env) conn(t testing.TB) *faultnet.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	nc, err := e.ln.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	e.tr.dialed(nc)
	return nc
}

// dial connects a client and reads HELLO and the initial TALLY.
func (e *env) dial(t testing.TB) *client {
	t.Helper()
	c := newClient(t, e.conn(t))
	c.hello()
	return c
}

// stalledClients dials n clients that stop reading at once.
func stalledClients(t testing.TB, e *env, n int) []*client {
	t.Helper()
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = e.dial(t)
		stall(cs[i])
	}
	return cs
}

// voteUntil makes v vote for opt until cond holds, failing the test with
// what if it does not within the bound.
func voteUntil(t testing.TB, v *client, opt, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, bound)
		}
		v.vote(opt)
	}
}

// failingListener fails its first Accept with err, then accepts from the
// inner listener: a permanent accept error (faultnet's FailAccepts
// injects only temporary ones).
type failingListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *failingListener) Accept() (net.Conn, error) {
	var err error
	l.once.Do(func() { err = l.err })
	if err != nil {
		return nil, err
	}
	return l.Listener.Accept()
}

// client is a test client: a wire.Client, which checks every line it
// reads against protocol v1 (well-formed, TALLY seqs never going back, a
// repeated TALLY only as an answer to TALLY, OK seqs increasing), with
// helpers that bound each read and write by the bound and fail the test.
// The helpers call t.Fatalf: from a goroutine the test started, use read
// and the wire.Client's own methods, which return errors.
type client struct {
	*wire.Client
	t  testing.TB
	nc net.Conn
}

// dialTCP connects to addr over plain TCP.
func dialTCP(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, bound)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return nc
}

func newClient(t testing.TB, nc net.Conn) *client {
	t.Cleanup(func() { nc.Close() })
	return &client{Client: wire.NewClient(nc), t: t, nc: nc}
}

// hello reads HELLO and the current TALLY after it.
func (c *client) hello() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(bound))
	if _, err := c.Greet(); err != nil {
		c.t.Fatalf("greeting: %v", err)
	}
	c.waitTally(0)
}

func (c *client) send(lines ...string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(bound))
	if err := c.Send(strings.Join(lines, "")); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read reads and checks the next line, within the bound. It does not fail
// the test: a goroutine may call it.
func (c *client) read() (wire.Msg, error) {
	c.nc.SetReadDeadline(time.Now().Add(bound))
	return c.Next()
}

// next reads and checks the next line.
func (c *client) next() wire.Msg {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// reply returns the next line that is not a TALLY.
func (c *client) reply() wire.Msg {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(bound))
	m, err := c.Reply()
	if err != nil {
		c.t.Fatalf("waiting for a reply: %v", err)
	}
	return m
}

// vote votes for opt and returns the seq of its OK.
func (c *client) vote(opt string) uint64 {
	c.t.Helper()
	c.send(string(wire.AppendVote(nil, opt)))
	m := c.reply()
	if m.Kind != wire.MsgOK {
		c.t.Fatalf("VOTE %s: got %v, want OK", opt, m)
	}
	return m.Seq
}

// waitTally returns the first TALLY with seq >= seq: the last one read,
// or the next to arrive.
func (c *client) waitTally(seq uint64) wire.Msg {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(bound))
	m, err := c.WaitTally(seq)
	if err != nil {
		c.t.Fatalf("waiting for TALLY %d: %v", seq, err)
	}
	return m
}

// lastTally returns the latest TALLY read.
func (c *client) lastTally() wire.Msg {
	c.t.Helper()
	m, ok := c.LastTally()
	if !ok {
		c.t.Fatal("no TALLY read")
	}
	return m
}

// expectEOF reads lines until the server closes the connection and returns
// them; a connection reset after the lines counts as a close.
func (c *client) expectEOF() []wire.Msg {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(bound))
	msgs, err := c.Drain()
	if err != nil {
		c.t.Fatalf("want EOF after %v, got %v", msgs, err)
	}
	return msgs
}

// closeWrite half-closes the client's side.
func (c *client) closeWrite() {
	c.t.Helper()
	if err := c.nc.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		c.t.Fatalf("CloseWrite: %v", err)
	}
}

// eventually waits, polling, until cond holds; it fails the test after
// bound. It is for conditions with no event to wait on (a counter).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", bound, what)
		}
		time.Sleep(time.Millisecond)
	}
}
