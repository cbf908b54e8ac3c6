package faultnet

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// spliceBufSize is the size of the buffer each direction of a splice reads
// into: the most a splice holds in flight, per direction, between its two
// connections.
const spliceBufSize = 32 << 10

var spliceBufs = sync.Pool{New: func() any { b := make([]byte, spliceBufSize); return &b }}

// spliceReader reads a splice's source into a pooled buffer.
//
// From a socket (a TCP or Unix connection, or a *Conn wrapping one with no
// fault on its reads) it reads inside RawConn.Read: one read(2) per chunk,
// with the buffer taken only once the socket has data, so a direction
// waiting on an idle connection holds no buffer.
//
// It used to peek one byte (MSG_PEEK) before each read, to wait without a
// buffer, and transfers from a server writing 1 KiB at a time stalled for
// 10 s and more. On Linux a peek is a full receive call: it runs the
// receive path's ACK logic (tcp_cleanup_rbuf) before any data is consumed,
// so it can send an ACK whose window is shrunk by the data still queued.
// Seen during a stall (ss -ti): that window was 24 KiB, below the server's
// segment size (30.5 KiB), so the server, avoiding silly windows, sent
// nothing and armed its zero-window probe timer; the read that then
// drained the splice's socket sent no update, since the window advertised
// was already more than half the window clamp, so only the backing-off
// probes moved the data, one window at a time, with megabytes queued.
// (Without the peek the same can happen, rarely, to any reader of a socket
// with a small receive buffer, a plain io.Copy proxy included: see
// SocketBufferControl, which now caps the segment size against it.)
//
// From a *Conn with faults on its reads, or from any other connection, it
// reads through the connection's own Read, holding the buffer while the
// Read blocks: faults gate that Read.
type spliceReader struct {
	c     net.Conn
	fc    *Conn           // c, if a *Conn wrapping a socket
	raw   syscall.RawConn // the socket under c, or nil
	buf   *[]byte
	fn    func(fd uintptr) bool // r.rawRead, bound once: no allocation per read
	n     int
	errno syscall.Errno
}

func newSpliceReader(c net.Conn) *spliceReader {
	r := &spliceReader{c: c}
	r.fc, r.raw = rawConnOf(c)
	if r.raw != nil {
		r.fn = r.rawRead
	}
	return r
}

// read returns the next bytes read from the connection, valid until the
// next call.
func (r *spliceReader) read() ([]byte, error) {
	if r.raw != nil && (r.fc == nil || !r.fc.rd.slow.Load()) {
		n, err := r.readRaw()
		if r.fc != nil {
			r.fc.rd.bytes.Add(int64(n))
			err = r.fc.t.(*sockEnd).innerErr("read", err)
		}
		if n == 0 {
			return nil, err
		}
		return (*r.buf)[:n], err
	}
	if r.buf == nil {
		r.buf = spliceBufs.Get().(*[]byte)
	}
	n, err := r.c.Read(*r.buf)
	return (*r.buf)[:n], err
}

// readRaw reads the socket once, inside RawConn.Read, with the errors a
// net.Conn's Read returns: io.EOF, *net.OpError.
func (r *spliceReader) readRaw() (int, error) {
	r.n, r.errno = 0, 0
	if err := r.raw.Read(r.fn); err != nil {
		// Closed, or past a deadline: RawConn.Read says so as "raw-read".
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return 0, r.opError(err)
	}
	switch {
	case r.errno != 0:
		return 0, r.opError(os.NewSyscallError("read", r.errno))
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

func (r *spliceReader) opError(err error) error {
	inner := r.c
	if r.fc != nil {
		inner = r.fc.Unwrap()
	}
	return &net.OpError{Op: "read", Net: inner.LocalAddr().Network(), Source: inner.LocalAddr(), Addr: inner.RemoteAddr(), Err: err}
}

func (r *spliceReader) release() {
	if r.buf != nil {
		spliceBufs.Put(r.buf)
		r.buf = nil
	}
}

// rawConnOf returns the raw socket under c (a TCP or Unix connection, or a
// *Conn wrapping one), and c as that *Conn if it is one; nil where the
// splice cannot read a socket directly.
func rawConnOf(c net.Conn) (*Conn, syscall.RawConn) {
	fc, _ := c.(*Conn)
	if fc != nil {
		if c = fc.Unwrap(); c == nil {
			return nil, nil
		}
	}
	switch c.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return nil, nil
	}
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil || !canReadRaw {
		return nil, nil
	}
	return fc, raw
}
