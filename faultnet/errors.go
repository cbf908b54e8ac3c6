package faultnet

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// The error contract (which error for which event) is in the package
// documentation, section Errors (doc.go).

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
