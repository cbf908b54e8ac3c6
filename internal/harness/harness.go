package harness

import (
	"context"
	"fmt"
	"net"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ServeFunc serves clients on ln until ctx is done, then returns: the
// shape of server.Server.Serve and of every mutant's Serve.
type ServeFunc func(ctx context.Context, ln net.Listener) error

// DefaultStopWait is the bound on a stop when none is given: generous,
// because a loaded machine is slow, and short beside a frozen server,
// which never stops.
const DefaultStopWait = 5 * time.Second

// ServerLabel is the profiler label key that Start puts on a server's
// goroutines; its value is the server's label (its name and a number, see
// Server.Label).
const ServerLabel = "stallproof-server"

// ClientLabel is the profiler label key on the goroutines of a test's
// clients of a server (package properties puts it on its checks): not the
// server's, whatever packages they run in.
const ClientLabel = "stallproof-client"

// Config configures Start. The zero value is usable.
type Config struct {
	// Name names the server in errors and in its label ("server" if empty).
	Name string
	// Label is the value of the ServerLabel label on the server's
	// goroutines (default: Name and a number unique in the process).
	Label string
	// Close, if set, is called by Stop after it cancels Serve's context:
	// for a server stopped by a method (server.Server.Close) rather than
	// by its context.
	Close func()
}

// Server is a server under test, serving in its own goroutine.
type Server struct {
	name, label string
	ln          net.Listener
	cancel      context.CancelFunc
	closeFn     func()
	done        chan struct{} // closed when Serve has returned
	serveErr    error         // what Serve returned; read after done

	once     sync.Once
	stopped  bool
	err      error
	stopTime time.Duration
}

var serial atomic.Uint64

// Start runs serve(ctx, ln) in a new goroutine labelled ServerLabel =
// cfg.Label, with a context that Stop cancels.
func Start(serve ServeFunc, ln net.Listener, cfg Config) *Server {
	name := cfg.Name
	if name == "" {
		name = "server"
	}
	label := cfg.Label
	if label == "" {
		label = fmt.Sprintf("%s#%d", name, serial.Add(1))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{name: name, label: label, ln: ln, cancel: cancel, closeFn: cfg.Close, done: make(chan struct{})}
	go Labelled(ServerLabel, label, func() {
		defer close(s.done)
		s.serveErr = serve(ctx, ln)
	})
	return s
}

// Done returns a channel closed when Serve has returned, for a caller
// that waits on it beside other things; Err then says what it returned.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns what Serve returned, once Done is closed; nil before.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.serveErr
	default:
		return nil
	}
}

// Listener returns the listener the server serves on.
func (s *Server) Listener() net.Listener { return s.ln }

// Label returns the value of the server's ServerLabel label.
func (s *Server) Label() string { return s.label }

// Stop cancels Serve's context (then calls Config.Close, if set) and waits
// at most wait (DefaultStopWait if wait <= 0) for Serve to return. It
// returns what Serve returned, or, if Serve is still running when wait
// passes, a *StuckError naming the server's goroutines still running;
// such a server is left running. Stop runs once: later calls return the
// first call's result.
func (s *Server) Stop(wait time.Duration) error {
	if wait <= 0 {
		wait = DefaultStopWait
	}
	s.once.Do(func() {
		t0 := time.Now()
		s.cancel()
		closed := make(chan struct{})
		if s.closeFn != nil {
			go func() { // a Close that blocks must not hold up the bound
				defer close(closed)
				s.closeFn()
			}()
		} else {
			close(closed)
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-s.done:
			s.err = s.serveErr
			select {
			case <-closed:
				s.stopped = true
			case <-timer.C:
			}
		case <-timer.C:
		}
		s.stopTime = time.Since(t0)
		if !s.stopped {
			s.err = &StuckError{Name: s.name, Wait: wait, Goroutines: Stacks(ServerLabel, s.label)}
		}
	})
	return s.err
}

// Stopped reports, after Stop, whether Serve returned within the bound,
// and how long the stop took.
func (s *Server) Stopped() (ok bool, took time.Duration) { return s.stopped, s.stopTime }

// StuckError is Stop's error when Serve did not return within the bound.
type StuckError struct {
	Name       string
	Wait       time.Duration
	Goroutines []Goroutines // the server's goroutines still running, by stack
}

// Error says that the server did not stop, and where its goroutines are.
func (e *StuckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s did not stop within %v", e.Name, e.Wait)
	n := 0
	for _, g := range e.Goroutines {
		n += g.Count
	}
	if n == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "; %d of its goroutines are still running:", n)
	for _, g := range e.Goroutines {
		fmt.Fprintf(&b, "\n\t%d × %s", g.Count, strings.Join(g.Stack, " < "))
	}
	return b.String()
}

// Labelled runs f on the calling goroutine under the profiler label
// key=value, which every goroutine f starts inherits. The goroutine has no
// labels afterwards.
func Labelled(key, value string, f func()) {
	pprof.Do(context.Background(), pprof.Labels(key, value), func(context.Context) { f() })
}

// T is the part of testing.TB that StartT uses.
type T interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
}

// StartT starts serve on ln (see Start) and stops it when the test ends,
// within wait (DefaultStopWait if wait <= 0): the test fails, with what is
// stuck, if Serve does not return in time, or if it returns an error.
func StartT(t T, serve ServeFunc, ln net.Listener, wait time.Duration, cfg Config) *Server {
	t.Helper()
	s := Start(serve, ln, cfg)
	t.Cleanup(func() {
		if err := s.Stop(wait); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}
