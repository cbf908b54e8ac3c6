//go:build unix

package properties

import "syscall"

// smallBuffers returns a net.Dialer Control function that shrinks a
// socket's send and receive buffers to n bytes before it connects, so the
// window it advertises from the SYN on is small: a server writing to a
// client that stopped reading blocks after tens of kilobytes.
func smallBuffers(n int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n); serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, n)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}
