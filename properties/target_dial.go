package properties

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/internal/sockdiag"
)

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
	if local := dialledFrom(far); local.IsValid() {
		ownConns.Store(local, true)
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
	for _, far := range e.splices.far {
		ownConns.Delete(dialledFrom(far))
	}
	e.splices.mu.Unlock()
	for _, sp := range all {
		_ = sp.Close()
	}
}

// ownConns holds the local address of every TCP connection the suite has
// dialled to a server and not yet closed, in this process. When the
// server runs in this process too, they are the suite's, and no relay's
// (writesItself).
var ownConns sync.Map

// ownConn reports whether the connection whose local address is local
// is one of the suite's own (ownConns).
func ownConn(local netip.AddrPort) bool {
	_, ok := ownConns.Load(local)
	return ok
}

// dialledFrom returns the local address of a connection the suite
// dialled, as the kernel names it (the server end's remote address), or
// the zero AddrPort if it is not TCP.
func dialledFrom(far net.Conn) netip.AddrPort {
	_, local := sockdiag.ServerSide(far)
	return local
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
