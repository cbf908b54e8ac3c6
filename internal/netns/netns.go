package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// DefaultSocketBufferSize is the maximum of a namespace's tcp_wmem and
// tcp_rmem unless New is told otherwise.
const DefaultSocketBufferSize = 16 << 10

// Errors.
var (
	// ErrUnsupported: private network namespaces exist only on Linux.
	ErrUnsupported = errors.New("private network namespaces need Linux: run the check on Linux (a container or VM will do)")
	// ErrPermission: this process may not make a network namespace.
	ErrPermission = errors.New("making a private network namespace needs root (CAP_SYS_ADMIN): run as root, e.g. sudo, or in a container started with --cap-add=SYS_ADMIN")
)

// sysctlValue is what tcp_wmem and tcp_rmem are set to: "min default
// max", with the kernel's usual 4 KiB minimum unless the buffer is
// smaller.
func sysctlValue(sockBuf int) string {
	return fmt.Sprintf("%d %d %d", min(4096, sockBuf), sockBuf, sockBuf)
}

// Dial dials addr from inside the namespace with d (nil: a zero
// net.Dialer). The connection stays in the namespace.
func (ns *Namespace) Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	if d == nil {
		d = &net.Dialer{}
	}
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Listen listens on addr inside the namespace.
func (ns *Namespace) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := ns.Do(func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// SocketBufferSize returns the maximum of the namespace's tcp_wmem and
// tcp_rmem.
func (ns *Namespace) SocketBufferSize() int { return ns.buf }

// String describes the namespace: "a private network namespace (socket
// buffers 16 KiB)".
func (ns *Namespace) String() string {
	return "a private network namespace (socket buffers " + sizeString(ns.buf) + ")"
}

func sizeString(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
