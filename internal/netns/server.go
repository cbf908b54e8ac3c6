package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ReadyTimeout bounds how long Start waits for the command to accept a
// connection.
const ReadyTimeout = 10 * time.Second

// StopTimeout is how long Stop waits after SIGTERM before it sends
// SIGKILL.
const StopTimeout = 5 * time.Second

// A Server is a command started by Start in a namespace of its own.
type Server struct {
	ns     *Namespace
	argv   []string
	addr   string
	cmd    *exec.Cmd
	out    *tail
	exited chan struct{}

	mu       sync.Mutex
	waitErr  error
	stopping bool
	stopped  bool
}

// Start makes a namespace with New(sockBuf), picks a free port in it,
// and starts the command argv inside it, telling it where to listen: every
// "{port}" and "{addr}" in argv is replaced by the port and by
// "127.0.0.1:port", and the environment gets PORT and ADDR likewise. It
// returns once the command accepts a connection on that address; if the
// command exits first, or does not accept within ReadyTimeout or before
// ctx ends, Start stops it and fails with the tail of its output.
//
// The command runs in its own process group: Stop signals the whole group.
// Its standard output and error are kept, the last few kilobytes, for
// Output and for the errors that say why it ended.
func Start(ctx context.Context, argv []string, sockBuf int) (*Server, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("netns: no command to start")
	}
	ns, err := New(sockBuf)
	if err != nil {
		return nil, err
	}
	ln, err := ns.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netns: picking a port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)

	r := strings.NewReplacer("{port}", port, "{addr}", addr)
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = r.Replace(a)
	}
	s := &Server{ns: ns, argv: argv, addr: addr, out: &tail{max: 8 << 10}, exited: make(chan struct{})}
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Env = append(os.Environ(), "PORT="+port, "ADDR="+addr)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = procAttr()
	s.cmd.WaitDelay = time.Second // a grandchild that keeps the output open does not hold Wait
	waited, err := ns.Start(s.cmd)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netns: starting %s: %w", s.quoted(), err)
	}
	go func() {
		err := <-waited
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(s.exited)
	}()
	if err := s.awaitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// awaitReady dials the server until it accepts.
func (s *Server) awaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		dctx, dcancel := context.WithTimeout(ctx, time.Second)
		c, err := s.ns.Dial(dctx, nil, "tcp", s.addr)
		dcancel()
		if err == nil {
			c.Close()
			return nil
		}
		last = err
		select {
		case <-s.exited:
			return fmt.Errorf("netns: %s exited before it accepted connections on %s: %v%s", s.quoted(), s.addr, s.exitStatus(), s.tailNote())
		case <-ctx.Done():
			return fmt.Errorf("netns: %s did not accept connections on %s (given as {port}/{addr} and $PORT/$ADDR) within %v: %v%s",
				s.quoted(), s.addr, ReadyTimeout, last, s.tailNote())
		case <-tick.C:
		}
	}
}

// Addr returns the address the command listens on, inside its namespace.
func (s *Server) Addr() string { return s.addr }

// Pid returns the command's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Namespace returns the server's namespace.
func (s *Server) Namespace() *Namespace { return s.ns }

// Dial connects to the server with d (nil: a zero net.Dialer), from
// inside its namespace.
func (s *Server) Dial(ctx context.Context, d *net.Dialer) (net.Conn, error) {
	return s.ns.Dial(ctx, d, "tcp", s.addr)
}

// Exited is closed once the command has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Err returns nil while the command runs or if Stop ended it; otherwise
// why it exited, with the tail of its output.
func (s *Server) Err() error {
	select {
	case <-s.exited:
	default:
		return nil
	}
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		return nil
	}
	return fmt.Errorf("%s exited: %v%s", s.quoted(), s.exitStatus(), s.tailNote())
}

// Output returns the last few kilobytes of the command's standard output
// and error.
func (s *Server) Output() string { return s.out.String() }

// Stop ends the command's process group with SIGTERM and, if it is still
// there after StopTimeout, SIGKILL; waits for the command; and releases
// the namespace. It returns Err as it was before Stop (nil unless the
// command had exited on its own).
func (s *Server) Stop() error {
	err := s.Err()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return err
	}
	s.stopped, s.stopping = true, true
	s.mu.Unlock()
	pid := s.cmd.Process.Pid
	signalGroup(pid, syscall.SIGTERM)
	timer := time.NewTimer(StopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
	case <-timer.C:
	}
	signalGroup(pid, syscall.SIGKILL) // and whatever the command left in its group
	<-s.exited
	s.ns.Close()
	return err
}

// String describes the server for reports: "the server started by
// `python3 chat.py` in a private network namespace (socket buffers 16
// KiB)".
func (s *Server) String() string {
	return "the server started by " + s.quoted() + " in " + s.ns.String()
}

// quoted is the command line in backquotes; for "sh -c LINE", LINE.
func (s *Server) quoted() string {
	if len(s.argv) == 3 && s.argv[0] == "sh" && s.argv[1] == "-c" {
		return "`" + s.argv[2] + "`"
	}
	return "`" + strings.Join(s.argv, " ") + "`"
}

func (s *Server) exitStatus() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waitErr == nil {
		return "exit status 0"
	}
	return s.waitErr.Error()
}

// tailNote is the last lines of the command's output, to end a message.
func (s *Server) tailNote() string {
	out := strings.TrimRight(s.out.String(), "\n")
	if out == "" {
		return " (it wrote nothing to stdout or stderr)"
	}
	lines := strings.Split(out, "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	// The last line first, for one-line summaries; then the tail.
	return fmt.Sprintf("; its output ends %q; the last lines of its output:\n\t%s", lines[len(lines)-1], strings.Join(lines, "\n\t"))
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
