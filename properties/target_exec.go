package properties

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/netns"
	"github.com/stallproof/stallproof/internal/sockdiag"
	"github.com/stallproof/stallproof/properties/report"
)

// RunExec runs the suite, as RunAddr does, against a server that it starts
// itself, in any language: command is the program and its arguments (no
// shell: use "sh", "-c", "..." for one). It starts the command inside a
// private network namespace of its own, whose socket buffers top out at 16
// KiB (ExecSocketBufferSize), so that a client that stops reading blocks the
// server's writes after tens of kilobytes, as on a real network, not
// after the 4 MiB a server's socket grows to on Linux loopback.
//
// The command is told where to listen: every "{port}" and "{addr}" in its
// arguments is replaced by a free port and by "127.0.0.1:port", and its
// environment gets PORT and ADDR likewise. RunExec waits up to 10 s for it
// to accept a connection there, and fails with the tail of its output if
// it exits or does not listen in that time. Every client of every check
// dials it from inside the namespace. At the end RunExec stops it (SIGTERM
// to its process group, SIGKILL 5 s later) and reaps it. If the command
// exits while the suite runs, the check fails with its exit status and
// the last lines of its output.
//
// What needs the listener or the server's process is skipped, as with
// RunAddr, each with a message, never counted as passed: Accept errors,
// the heap measurement of the bounded property, and the leaks property.
//
// Namespaces need Linux and root (CAP_SYS_ADMIN); elsewhere RunExec fails
// with the remedy. It never falls back to the host's network, where its
// verdicts would be wrong.
func RunExec(t *testing.T, command []string, opts ...Option) {
	t.Helper()
	cfg := newConfig(opts)
	srv, err := startExec(command, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer stopExec(t.Logf, srv)
	run(goTest{t}, nil, execTarget(srv, cfg.bufSize), opts)
}

// CheckExec is RunExec outside go test, as CheckAddr is RunAddr's: it
// starts command in a namespace, runs the suite against it, writes each
// property's log and, for a failure, its full report to out, and returns
// the verdicts. It fails at once, with the reason, if the namespace cannot
// be made or the command does not start listening.
func CheckExec(out io.Writer, command []string, opts ...Option) ([]report.Verdict, error) {
	cfg := newConfig(opts)
	srv, err := startExec(command, cfg)
	if err != nil {
		return nil, err
	}
	defer stopExec(func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }, srv)
	return checkTarget(out, execTarget(srv, cfg.bufSize), opts)
}

// ExecSocketBufferSize sets the maximum of the socket buffers (tcp_wmem
// and tcp_rmem) of every socket in the network namespace RunExec and
// CheckExec start the server in (default 16 KiB): how much a client that
// stops reading absorbs
// of the server's writes, in the server's own socket and in the client's,
// before the server's Write blocks. It has no effect on Run, RunDial and
// RunAddr, whose servers keep their host's socket buffers; BufferSize is the
// suite's own buffers, on its side of each connection.
func ExecSocketBufferSize(n int) Option {
	return option(fmt.Sprintf("ExecSocketBufferSize(%d)", n), func(c *config) { c.execSockBuf = n })
}

// startExec starts command in a namespace.
func startExec(command []string, cfg config) (*netns.Server, error) {
	srv, err := netns.Start(context.Background(), command, cfg.execSockBuf)
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	return srv, nil
}

// stopExec stops the server and says if it had exited on its own.
func stopExec(logf func(format string, args ...any), srv *netns.Server) {
	if err := srv.Stop(); err != nil {
		logf("%v", err)
	}
}

// execTarget reaches srv from inside its namespace.
func execTarget(srv *netns.Server, bufSize int) *target {
	d := &net.Dialer{Control: faultnet.SocketBufferControl(bufSize)}
	return &target{
		addr: srv.Addr(), desc: srv.String(), smallBuffers: true, exited: srv.Exited(), exitErr: srv.Err,
		dial: func(ctx context.Context) (net.Conn, error) { return srv.Dial(ctx, d) },
		// The kernel's view of the server's sockets, from inside its
		// namespace: a sock_diag socket sees the namespace it was made in.
		openDiag: func() (*sockdiag.Conn, error) {
			var c *sockdiag.Conn
			err := srv.Namespace().Do(func() (err error) {
				c, err = sockdiag.Open()
				return err
			})
			return c, err
		},
	}
}
