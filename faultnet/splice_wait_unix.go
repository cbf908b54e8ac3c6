//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package faultnet

import "syscall"

const canWaitReadable = true

// waitReadable blocks until the socket has data, an EOF or an error to read,
// without reading it: it peeks one byte. Before it waits, it calls idle, so
// a splice that waits on an idle connection holds no buffer. A pending
// socket error (ECONNRESET) is consumed by the peek, so it is returned as
// sockErr; err is the RawConn's (a closed socket).
func waitReadable(raw syscall.RawConn, idle func()) (sockErr syscall.Errno, err error) {
	var b [1]byte
	err = raw.Read(func(fd uintptr) bool {
		// Go's sockets are non-blocking: the peek returns EAGAIN at once
		// when there is nothing to read, and raw.Read then waits for the
		// poller and calls again.
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
			switch err {
			case nil:
				return true // data or EOF
			case syscall.EINTR:
				continue
			case syscall.EAGAIN: // EWOULDBLOCK is the same errno where it exists
				idle()
				return false
			}
			if errno, ok := err.(syscall.Errno); ok {
				sockErr = errno
			}
			return true
		}
	})
	return sockErr, err
}
