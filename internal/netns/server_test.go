//go:build linux

package netns_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/internal/netns"
)

// start starts argv with Start, or skips where namespaces cannot be made.
func start(t *testing.T, env []string, argv ...string) (*netns.Server, error) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	s, err := netns.Start(context.Background(), argv, 0)
	if errors.Is(err, netns.ErrPermission) {
		t.Skip(err)
	}
	return s, err
}

// The command is told its address, accepts there, and is reached through
// Dial; Stop ends it.
func TestServer(t *testing.T) {
	s, err := start(t, []string{childEnv + "=echo"}, os.Args[0], "-test.run=^$", "--addr={addr}")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c, err := s.Dial(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	if want := "the server started by `" + os.Args[0] + " -test.run=^$ --addr={addr}` in a private network namespace (socket buffers 16 KiB)"; s.String() != want {
		t.Errorf("String() = %q, want %q", s.String(), want)
	}
	if !strings.Contains(s.Output(), "listening on "+s.Addr()) {
		t.Errorf("Output() = %q, want the child's line with its address %s", s.Output(), s.Addr())
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	select {
	case <-s.Exited():
	default:
		t.Error("Stop returned before the command exited")
	}
}

// A command that exits before it listens fails Start with its status and
// the tail of its output.
func TestServerExitsEarly(t *testing.T) {
	_, err := start(t, nil, "sh", "-c", "echo cannot bind port $PORT >&2; exit 3")
	if err == nil {
		t.Fatal("Start succeeded with a command that exits at once")
	}
	for _, want := range []string{"exited before it accepted", "exit status 3", "cannot bind port "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start's error %q does not say %q", err, want)
		}
	}
}

// A command that dies while it serves is seen: Exited closes and Err says
// how, with its output.
func TestServerDies(t *testing.T) {
	s, err := start(t, []string{childEnv + "=echo"}, os.Args[0], "-test.run=^$")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.Err(); err != nil {
		t.Fatalf("Err() = %v while the command runs", err)
	}
	p, err := os.FindProcess(s.Pid())
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
	<-s.Exited()
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "killed") || !strings.Contains(err.Error(), "listening on") {
		t.Errorf("Err() = %v, want the signal and the output", err)
	}
}
