package protocols_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// requireServersEnv makes a missing server binary a failure instead of a
// skip (CI sets it, after installing them).
const requireServersEnv = "STALLPROOF_REQUIRE_SERVERS"

// installHint is the command that installs every real server.
const installHint = "apt-get install -y redis-server nats-server mosquitto"

// realServer starts bin on a free loopback port, as a child process that
// t.Cleanup kills by its PID, and returns its address once it accepts
// connections. args gets the port and a scratch directory for config
// files. A missing binary skips t with the command that installs it,
// unless STALLPROOF_REQUIRE_SERVERS=1.
func realServer(t *testing.T, bin string, args func(port int, dir string) []string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} { // not on every user's PATH
		if _, serr := os.Stat(filepath.Join(dir, bin)); err != nil && serr == nil {
			path, err = filepath.Join(dir, bin), nil
		}
	}
	if err != nil {
		if os.Getenv(requireServersEnv) == "1" {
			t.Fatalf("%s is not installed (%s=1): %s", bin, requireServersEnv, installHint)
		}
		t.Skipf("%s is not installed: %s", bin, installHint)
	}
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(path, args(port, dir)...)
	cmd.Dir = dir
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before it accepted connections:\n%s", bin, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections at %s within 10s: %v\n%s", bin, addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a child's port: nothing to wait on
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeFile writes a config file into dir and returns its path.
func writeFile(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return p
}

// syncBuffer collects a child's output from its copying goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() < 64<<10 {
		s.b.Write(p)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
