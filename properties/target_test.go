package properties_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/mutants"
	"github.com/stallproof/stallproof/properties/report"
)

// pipeServer runs serve on a listener whose connections are net.Pipe
// ends, and returns the dial function that hands out the other ends: the
// shape of a server with an InProcessConn method.
func pipeServer(t *testing.T, serve properties.ServeFunc) func(ctx context.Context) (net.Conn, error) {
	t.Helper()
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel() // the server closes its listener
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return func(ctx context.Context) (net.Conn, error) {
		c, s := net.Pipe()
		select {
		case ln.conns <- s:
			return c, nil
		case <-ln.done:
			return nil, net.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// tcpServer runs serve on a loopback TCP listener and returns its address.
func tcpServer(t *testing.T, serve properties.ServeFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func TestReferenceDial(t *testing.T) {
	properties.RunDial(t, pipeServer(t, reference), properties.Checks(5))
}

func TestReferenceAddr(t *testing.T) {
	properties.RunAddr(t, tcpServer(t, reference), properties.Checks(5))
}

// TestAddrInThisProcess: RunAddr against a server in the test's own
// process sees its goroutines, so the leaks property runs, and its verdict
// names the phase it could not run (the suite cannot stop the server).
func TestAddrInThisProcess(t *testing.T) {
	var out strings.Builder
	verdicts, err := properties.CheckAddr(&out, tcpServer(t, reference), properties.Properties("leaks"), properties.Checks(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 1 || verdicts[0].Result != report.Pass {
		t.Fatalf("verdicts %+v, want leaks PASS; the log:\n%s", verdicts, out.String())
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
	if v := verdicts[0]; !strings.Contains(v.Note, "shutdown with stalled clients") || !strings.Contains(v.Note, "in this process") {
		t.Errorf("leaks note %q, want it to name the shutdown phase it skipped and say the server is in this process", v.Note)
	}
}

// TestAddrInThisProcessFindsLeaks: the leaks property that RunAddr now runs
// for a server in this process catches the leaky-writer mutant, whose
// writer goroutines outlive their clients.
func TestAddrInThisProcessFindsLeaks(t *testing.T) {
	quickShrink(t)
	m, _ := mutants.Lookup("leaky-writer")
	var out strings.Builder
	verdicts, err := properties.CheckAddr(&out, tcpServer(t, m.ServeOptions(mutants.DefaultOptions)), properties.Properties("leaks"), properties.Checks(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 1 || verdicts[0].Result != report.Fail {
		t.Fatalf("verdicts %+v, want leaks FAIL; the log:\n%s", verdicts, out.String())
	}
}

// Runs of parallel tests take turns: each sets rapid's flags and measures
// the whole process, so side by side they raced (the race detector failed
// the test) and saw each other's goroutines.
func TestParallelRunsTakeTurns(t *testing.T) {
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			properties.Run(t, reference, properties.Properties("progress", "leaks"), properties.Checks(2))
		})
	}
}
