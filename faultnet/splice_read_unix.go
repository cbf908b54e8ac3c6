//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package faultnet

import "syscall"

const canReadRaw = true

// rawRead is the system call half of spliceReader.readRaw: called by
// RawConn.Read with the socket locked, it takes a pooled buffer, reads
// into it, and gives the buffer back if there was nothing to read, so a
// splice waiting on an idle connection holds no buffer. One read(2) a
// chunk: no poll or peek before it.
func (r *spliceReader) rawRead(fd uintptr) bool {
	if r.buf == nil {
		r.buf = spliceBufs.Get().(*[]byte)
	}
	for {
		n, err := syscall.Read(int(fd), *r.buf)
		switch err {
		case nil:
			r.n = n
			quickAck(fd)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN: // EWOULDBLOCK is the same errno where it exists
			r.release()
			return false // Go's poller waits for the socket, then calls again
		}
		r.n = 0
		if errno, ok := err.(syscall.Errno); ok {
			r.errno = errno
		} else {
			r.errno = syscall.EIO
		}
		return true
	}
}
