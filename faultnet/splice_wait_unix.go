//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package faultnet

import "syscall"

const canWaitReadable = true

// readWaiter waits until a socket has data, an EOF or an error to read,
// without reading it: it peeks one byte. Before it waits it calls idle, so
// a splice that waits on an idle connection holds no buffer.
type readWaiter struct {
	raw   syscall.RawConn
	idle  func()
	fn    func(fd uintptr) bool // w.peek, bound once: no allocation per wait
	errno syscall.Errno
	b     [1]byte
}

func newReadWaiter(raw syscall.RawConn, idle func()) *readWaiter {
	w := &readWaiter{raw: raw, idle: idle}
	w.fn = w.peek
	return w
}

// wait blocks until the socket is readable. A pending socket error
// (ECONNRESET) is consumed by the peek, so it is returned; a closed socket
// is not (the Read that follows meets it).
func (w *readWaiter) wait() syscall.Errno {
	w.errno = 0
	_ = w.raw.Read(w.fn)
	return w.errno
}

func (w *readWaiter) peek(fd uintptr) bool {
	// Go's sockets are non-blocking: the peek returns EAGAIN at once when
	// there is nothing to read, and raw.Read then waits for the poller and
	// calls again.
	for {
		_, _, err := syscall.Recvfrom(int(fd), w.b[:], syscall.MSG_PEEK)
		switch err {
		case nil:
			return true // data or EOF
		case syscall.EINTR:
			continue
		case syscall.EAGAIN: // EWOULDBLOCK is the same errno where it exists
			w.idle()
			return false
		}
		if errno, ok := err.(syscall.Errno); ok {
			w.errno = errno
		}
		return true
	}
}
