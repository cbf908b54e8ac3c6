//go:build unix

package faultnet

import "syscall"

// PresetBuffers returns a Control function for net.Dialer and
// net.ListenConfig that sets a socket's send and receive buffers to n
// bytes before it connects or listens (sockets a listener accepts inherit
// them), so that a peer that stops reading stalls the writer after tens of
// kilobytes. Set before the handshake, a small receive buffer also gives a
// small window scale; set after it, as ShrinkBuffers must, the window can
// fall below one loopback segment and bulk transfers crawl. Where socket
// options cannot be set before connecting, it returns nil.
func PresetBuffers(n int) func(network, address string, c syscall.RawConn) error {
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
