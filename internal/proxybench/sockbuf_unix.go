//go:build unix

package proxybench

import "syscall"

// presetBuffers is a Control function that sets a socket's kernel buffers
// to n bytes before it connects or listens.
func presetBuffers(n int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, n)
		})
	}
}
