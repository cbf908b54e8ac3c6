package properties

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/internal/sockdiag"
)

// A target is where a check's clients connect: a server Run starts on the
// suite's own listener, or one RunDial, RunAddr or RunExec reaches. With
// the last three, each client's end is a faultnet connection spliced to a connection
// to the server (faultnet.Splice), so the faults still reach the server:
// a client that stops reading stops the splice reading from the server,
// which meets a zero window; a half-close is forwarded as one, a reset as
// a reset.
type target struct {
	dial func(ctx context.Context) (net.Conn, error) // nil: the suite's listener and a ServeFunc
	addr string                                      // RunAddr's address, for reports and socket buffers
	desc string                                      // what String says, if set

	// here: the socket listening on addr belongs to this process (a test
	// that started its server and reached it by address), whose
	// goroutines and heap the suite can see; known: /proc could say.
	here, known bool

	// smallBuffers: the server's own socket buffers are small (a
	// server RunExec started in a namespace), so filling them takes
	// kilobytes, not megabytes, and the suite need not shrink them.
	smallBuffers bool
	// exited, if set, is closed when the server's process exits; exitErr
	// then says why, with its output. The suite treats that like a Serve
	// that returned early.
	exited  <-chan struct{}
	exitErr func() error

	// openDiag opens the sock_diag socket in the target's network
	// namespace; nil: this one.
	openDiag func() (*sockdiag.Conn, error)
	kv       *kernelView // opened by run for a target with an address
}

// kernel returns the kernel's view of the target's sockets, or nil.
func (tg *target) kernel() *kernelView {
	if tg == nil {
		return nil
	}
	return tg.kv
}

// bigBuffers reports whether the server keeps socket buffers of its own
// that the suite could not shrink: on Linux loopback they absorb up to
// ~4 MiB before its Write blocks.
func (tg *target) bigBuffers() bool {
	return tg != nil && tg.addr != "" && !tg.smallBuffers && !(tg.kv != nil && tg.kv.shrunk)
}

// smallSocketBuffers reports whether the server runs in another process
// whose socket buffers are small (RunExec, or RunAddr once the suite shrank
// them): filling them takes one short burst, cheap enough for every check.
func (tg *target) smallSocketBuffers() bool { return tg != nil && tg.addr != "" && !tg.bigBuffers() }

// deepPush returns how many bytes the first check of a property pushes
// to a healthy client while another stalls, to fill the buffers between
// the server and a stalled client (0: none). A server in another process
// keeps its own socket send buffer: up to 4 MiB on Linux loopback (RunAddr
// where the suite could not shrink it). With small socket buffers, the
// server's runtime may still buffer in user space before its write waits:
// asyncio's transports hold 64 KiB before drain() waits, Node's sockets
// 16 KiB before write() returns false; and the socket the suite sees may
// be a proxy's, with a server behind it whose own buffers hold megabytes.
func (tg *target) deepPush() int64 {
	switch {
	case tg == nil || tg.addr == "":
		return 0
	case tg.smallBuffers:
		return 512 << 10
	}
	return 5 << 20
}

// listens reports whether the suite owns the listener: only then can it
// make Accept fail, and stop the server.
func (tg *target) listens() bool { return tg == nil || tg.dial == nil }

// inProcess reports whether the server runs in this process, where its
// goroutines and heap can be seen.
func (tg *target) inProcess() bool { return tg == nil || tg.addr == "" || tg.here }

func (tg *target) String() string {
	switch {
	case tg.listens():
		return "a server on the suite's listener"
	case tg.desc != "":
		return tg.desc
	case tg.addr != "" && tg.here:
		return "the server at " + tg.addr + " (in this process)"
	case tg.addr != "":
		return "the server at " + tg.addr
	}
	return "the server behind the dial function"
}

// elsewhere says why the server's goroutines and heap cannot be seen.
func (tg *target) elsewhere() string {
	if tg.known {
		return fmt.Sprintf("%v runs in another process", tg)
	}
	return fmt.Sprintf("%v may run in another process (this system cannot tell which process listens there)", tg)
}

// splices are a check's running splices.
type splices struct {
	mu  sync.Mutex
	all []*faultnet.Spliced
	far map[*faultnet.Conn]net.Conn // a client's end → the real connection it is spliced to
}

// dialSpliced makes one client connection to the target: a faultnet pipe
// whose far end is spliced to a connection dialled to the server.
func (e *env) dialSpliced(ctx context.Context) (*faultnet.Conn, error) {
	far, err := e.target.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("dialling %v: %w", e.target, err)
	}
	if e.target.addr != "" {
		// A real socket: shrink its socket buffers, or the server's Write
		// to a stalled client blocks only after megabytes.
		far = faultnet.Wrap(far, faultnet.SocketBufferSize(e.cfg.bufSize))
	}
	client, end := faultnet.Pipe(faultnet.BufferSize(e.cfg.bufSize), faultnet.Name("spliced as "+far.LocalAddr().String()))
	sp := faultnet.Splice(end, far)
	e.splices.mu.Lock()
	e.splices.all = append(e.splices.all, sp)
	if e.splices.far == nil {
		e.splices.far = map[*faultnet.Conn]net.Conn{}
	}
	e.splices.far[client] = far
	e.splices.mu.Unlock()
	return client, nil
}

// closeSplices ends every splice and waits for its goroutines.
func (e *env) closeSplices() {
	e.splices.mu.Lock()
	all := e.splices.all
	e.splices.all = nil
	e.splices.mu.Unlock()
	for _, sp := range all {
		_ = sp.Close()
	}
}

// RunDial runs the suite, as Run does, against a server that hands out
// in-process connections (a Dial or InProcessConn method that returns one
// end of a net.Pipe, say) instead of serving on a listener. Every client
// of every check calls dial once. The server must already run, and keep
// running until RunDial returns.
//
// What needs the listener is skipped, each with a message in the report,
// never counted as passed: Accept errors, and the leaks property's
// shutdown phase (the suite cannot stop the server). The leaks property
// still checks that the server's goroutines return to their baseline once
// every client has left.
func RunDial(t *testing.T, dial func(ctx context.Context) (net.Conn, error), opts ...Option) {
	t.Helper()
	run(goTest{t}, nil, &target{dial: dial}, opts)
}

// RunAddr runs the suite, as Run does, against a server already listening
// on a loopback address, in this process or another, written in any
// language. Each client dials addr over TCP; the connection's socket
// buffers are shrunk to BufferSize, so a stalled client blocks the
// server's writes after tens of kilobytes, not megabytes.
//
// What needs the listener or the server's process is skipped, each with a
// message, never counted as passed: Accept errors, the heap measurement of
// the bounded property, and the leaks property. When the server runs in
// the test's own process (RunAddr reads /proc to tell, on Linux), its
// goroutines and heap can be seen: the heap measurement and the leaks
// property run, as under RunDial, and only the leaks property's shutdown
// phase is skipped, since the suite cannot stop a server it did not start.
func RunAddr(t *testing.T, addr string, opts ...Option) {
	t.Helper()
	if err := checkLoopback(addr); err != nil {
		t.Fatal(err)
	}
	run(goTest{t}, nil, addrTarget(addr, newConfig(opts).bufSize), opts)
}

func addrTarget(addr string, bufSize int) *target {
	d := net.Dialer{Control: faultnet.SocketBufferControl(bufSize)}
	tg := &target{addr: addr, dial: func(ctx context.Context) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}}
	tg.here, tg.known = harness.ListensHere(addr)
	return tg
}

// checkLoopback refuses an address that is not on the loopback interface:
// the suite's load goes only to this machine.
func checkLoopback(addr string) error {
	if err := harness.CheckLoopback(addr); err != nil {
		return fmt.Errorf("properties: %w: the suite loads only this machine", err)
	}
	return nil
}
