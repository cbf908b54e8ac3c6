package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/faultnet"
)

func TestParseProfile(t *testing.T) {
	profile := `goroutine profile: total 7
3 @ 0x1 0x2
# labels: {"stallproof-server":"reference"}
#	0x1	runtime.gopark+0x1	/x.go:1
#	0x2	sync.(*Cond).Wait+0x2	/x.go:2
#	0x3	example.com/s.(*conn).write+0x3	/x.go:3

2 @ 0x1 0x3
# labels: {"other":"x", "stallproof-server":"lock-across-write"}
#	0x1	runtime.gopark+0x1	/x.go:1

1 @ 0x1 0x4
# labels: {"stallproof-load":"reference"}

1 @ 0x1 0x5
#	0x1	main.main+0x1	/x.go:1
`
	rs := parseProfile(bytes.NewBufferString(profile))
	require.Len(t, rs, 4)
	assert.Equal(t, 3, rs[0].count)
	assert.Equal(t, "reference", rs[0].labels[ServerLabel])
	assert.Equal(t, []string{"sync.(*Cond).Wait", "example.com/s.(*conn).write"}, rs[0].stack)
	assert.Equal(t, "lock-across-write", rs[1].labels[ServerLabel])
	assert.Equal(t, []string{"main.main"}, rs[3].stack)
}

func TestGoroutinesByLabel(t *testing.T) {
	stop := make(chan struct{})
	started := make(chan struct{})
	go Labelled(ServerLabel, "test-server", func() {
		go func() { <-stop }() // inherits the label
		close(started)
		<-stop
	})
	<-started
	assert.Equal(t, 2, GoroutinesByLabel(ServerLabel)["test-server"])
	assert.Len(t, Stacks(ServerLabel, "test-server"), 2)
	close(stop)
}

// serveUntil serves nothing: it returns when ctx is done, or, when
// ignoreCtx, when release is closed.
func serveUntil(release chan struct{}, ignoreCtx bool) ServeFunc {
	return func(ctx context.Context, ln net.Listener) error {
		done := ctx.Done()
		if ignoreCtx {
			done = nil
		}
		select {
		case <-done:
		case <-release:
		}
		return ln.Close()
	}
}

func TestStop(t *testing.T) {
	ln := faultnet.Listen()
	s := Start(serveUntil(nil, false), ln, Config{Name: "polite"})
	require.NoError(t, s.Stop(time.Minute))
	ok, took := s.Stopped()
	assert.True(t, ok)
	assert.Less(t, took, time.Minute)
	assert.NoError(t, s.Stop(time.Minute), "a second Stop returns the first's result")
}

func TestStopReturnsServeError(t *testing.T) {
	boom := errors.New("boom")
	s := Start(func(ctx context.Context, ln net.Listener) error { <-ctx.Done(); return boom }, faultnet.Listen(), Config{})
	assert.NoError(t, s.Err(), "before Serve returns")
	assert.ErrorIs(t, s.Stop(0), boom)
	<-s.Done()
	assert.ErrorIs(t, s.Err(), boom)
	ok, _ := s.Stopped()
	assert.True(t, ok, "a Serve that returned an error did stop")
}

// TestStopSaysWhatIsStuck: a server that ignores its context is reported
// with its goroutines' stacks, and Stop returns within the bound.
func TestStopSaysWhatIsStuck(t *testing.T) {
	release := make(chan struct{})
	s := Start(serveUntil(release, true), faultnet.Listen(), Config{Name: "deaf"})
	t0 := time.Now()
	err := s.Stop(200 * time.Millisecond)
	assert.Less(t, time.Since(t0), 10*time.Second)
	var stuck *StuckError
	require.ErrorAs(t, err, &stuck)
	assert.Contains(t, err.Error(), "deaf did not stop within 200ms; 1 of its goroutines are still running")
	assert.Contains(t, err.Error(), "serveUntil")
	ok, _ := s.Stopped()
	assert.False(t, ok)
	close(release)
}

// TestStopWithClose: a server stopped by a method, not by its context.
func TestStopWithClose(t *testing.T) {
	release := make(chan struct{})
	s := Start(serveUntil(release, true), faultnet.Listen(), Config{Close: func() { close(release) }})
	assert.NoError(t, s.Stop(time.Minute))
}

type recorder struct {
	cleanups []func()
	errs     []string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }

func TestStartTFailsAStuckServer(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var r recorder
	StartT(&r, serveUntil(release, true), faultnet.Listen(), 100*time.Millisecond, Config{})
	require.Len(t, r.cleanups, 1)
	r.cleanups[0]()
	assert.Len(t, r.errs, 1, "a server that does not stop fails the test")
}

func TestListen(t *testing.T) {
	ln, err := Listen(Network{})
	require.NoError(t, err)
	defer ln.Close()
	assert.Equal(t, "127.0.0.1", ln.Addr().(*net.TCPAddr).IP.String())
	tcp, err := Listen(Network{TCP: true})
	require.NoError(t, err)
	defer tcp.Close()
	assert.True(t, strings.HasPrefix(tcp.Addr().String(), "127.0.0.1:"))
	assert.Equal(t, "loopback TCP, socket buffers 4096 B", Network{TCP: true}.Describe())
	assert.Equal(t, "in-memory (faultnet)", Network{}.Describe())
}

func TestCheckLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9000", "127.1.2.3:1", "[::1]:9000", "localhost:9000"} {
		assert.NoError(t, CheckLoopback(addr), addr)
	}
	for _, addr := range []string{"10.0.0.1:9000", "0.0.0.0:9000", "example.com:80", ":9000", "127.0.0.1"} {
		assert.Error(t, CheckLoopback(addr), addr)
	}
}

func TestListensHere(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	here, known := ListensHere(addr)
	if !known {
		t.Skip("/proc cannot say who owns a socket here")
	}
	if !here {
		t.Errorf("ListensHere(%s) = false for this process's own listener", addr)
	}
	ln.Close()
	if here, _ := ListensHere(addr); here {
		t.Errorf("ListensHere(%s) = true after the listener closed", addr)
	}
}

func TestListensHereNotForAnotherProcess(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on the PATH")
	}
	// A listener in a child process: it prints its port and waits for its
	// standard input to close.
	cmd := exec.Command(py, "-c", `import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()`)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() {
		in.Close()
		_ = cmd.Wait()
	}()
	port, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	addr := net.JoinHostPort("127.0.0.1", strings.TrimSpace(port))
	here, known := ListensHere(addr)
	if !known {
		t.Skip("/proc cannot say who owns a socket here")
	}
	if here {
		t.Errorf("ListensHere(%s) = true for a child process's listener", addr)
	}
}

func TestNoRaceExitPause(t *testing.T) {
	for _, c := range []struct{ before, after string }{
		{"", "atexit_sleep_ms=0"},
		{"halt_on_error=1", "halt_on_error=1 atexit_sleep_ms=0"},
		{"atexit_sleep_ms=50", "atexit_sleep_ms=50"}, // the user's own choice stays
	} {
		t.Setenv("GORACE", c.before)
		NoRaceExitPause()
		if got := os.Getenv("GORACE"); got != c.after {
			t.Errorf("GORACE %q: got %q, want %q", c.before, got, c.after)
		}
	}
}
