//go:build unix

package faultnet

import "syscall"

// SocketBufferControl returns a Control function for net.Dialer and
// net.ListenConfig that sets the socket buffers (SO_SNDBUF, SO_RCVBUF) of
// a socket to n bytes before it connects or listens (sockets a listener accepts inherit
// them), so that a peer that stops reading stalls the writer after tens of
// kilobytes. Set before the handshake, a small receive buffer also gives a
// small window scale; set after it, as SetSocketBufferSize must, the window can
// fall below one loopback segment and bulk transfers crawl. Where socket
// options cannot be set before connecting, it returns nil.
//
// It also caps the segment size the socket announces (TCP_MAXSEG) at n/4,
// where the platform allows. Without the cap, a peer streaming small writes
// into a receive buffer this small stalled now and then for 10 s to
// minutes: the peer's segment size on loopback (about 30 KiB: half the
// largest window it saw) exceeded the window the socket went on to
// advertise (24 KiB), so the peer, avoiding silly windows, sent nothing but
// its backing-off zero-window probes, and the socket, its buffer empty, had
// no reason to advertise again (TestNoStallSmallWrites: 3 transfers of 200
// through a plain io.Copy proxy with these buffers, 0 with the cap).
func SocketBufferControl(n int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n); serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, n)
			}
			if serr == nil && n/4 >= minMSS {
				// Best effort: not every platform takes it before connecting.
				_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, n/4)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// minMSS is the least segment size SocketBufferControl asks for.
const minMSS = 1024
