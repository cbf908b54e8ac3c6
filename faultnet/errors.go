package faultnet

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// The errors faultnet returns are the ones a real TCP socket returns, so a
// server's real error paths run:
//
//   - after a local Close: a *net.OpError wrapping net.ErrClosed;
//   - after a reset: a *net.OpError wrapping an *os.SyscallError wrapping
//     syscall.ECONNRESET ("read: connection reset by peer");
//   - writing after CloseWrite, or to a peer that called CloseRead or Close:
//     syscall.EPIPE, wrapped the same way ("write: broken pipe");
//   - a passed deadline: a *net.OpError wrapping os.ErrDeadlineExceeded, so
//     both net.Error.Timeout() and errors.Is(err, os.ErrDeadlineExceeded) hold;
//   - reading after the peer's CloseWrite or Close: io.EOF, unwrapped, as net
//     returns it;
//   - an accept error injected by Listener.FailAccepts: syscall.EMFILE, whose
//     Temporary() is true;
//   - dialing a closed or refusing listener: syscall.ECONNREFUSED.
//
// Test with errors.Is, as for real sockets:
// errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed).

// ErrHeld is returned by a dial that a DialHold failed without naming an error.
var ErrHeld = errors.New("faultnet: dial failed by the test")

func opError(op string, local, remote net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: local, Addr: remote, Err: err}
}

func (c *Conn) readErr(err error) error  { return opError("read", c.local, c.remote, err) }
func (c *Conn) writeErr(err error) error { return opError("write", c.local, c.remote, err) }

var (
	errReadReset  error = os.NewSyscallError("read", syscall.ECONNRESET)
	errWriteReset error = os.NewSyscallError("write", syscall.ECONNRESET)
	errWritePipe  error = os.NewSyscallError("write", syscall.EPIPE)
	errAcceptFull error = os.NewSyscallError("accept4", syscall.EMFILE)
	errRefused    error = os.NewSyscallError("connect", syscall.ECONNREFUSED)
)
