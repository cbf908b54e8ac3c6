package faultnet_test

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// rawTCPPair returns two unwrapped loopback TCP connections.
func rawTCPPair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, s := acceptedPair(t, ln, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// acceptedPair dials ln with dial and returns both ends, closed when the
// test ends; ln is closed at once.
func acceptedPair(t testing.TB, ln net.Listener, dial func() (net.Conn, error)) (client, server net.Conn) {
	t.Helper()
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	if s == nil {
		c.Close()
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func TestWrapForwardsTCPMethods(t *testing.T) {
	t.Parallel()
	rc, rs := rawTCPPair(t)
	c := faultnet.Wrap(rc, faultnet.Name("w"))
	defer c.Close()
	if c.Unwrap() != rc || c.Peer() != nil {
		t.Fatal("Unwrap/Peer")
	}
	if c.String() != "w" || c.LocalAddr() != rc.LocalAddr() || c.RemoteAddr() != rc.RemoteAddr() {
		t.Errorf("name %q, addrs %v %v", c, c.LocalAddr(), c.RemoteAddr())
	}
	for name, err := range map[string]error{
		"SetNoDelay":         c.SetNoDelay(false),
		"SetKeepAlive":       c.SetKeepAlive(true),
		"SetKeepAlivePeriod": c.SetKeepAlivePeriod(time.Minute),
		"SetReadBuffer":      c.SetReadBuffer(8192),
		"SetWriteBuffer":     c.SetWriteBuffer(8192),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// CloseWrite is a half-close, not a close: the reply still arrives.
	c.Write([]byte("req"))
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(rs)
	if string(got) != "req" || err != io.EOF {
		t.Fatalf("server read %q, %v", got, err)
	}
	rs.Write([]byte("resp"))
	if got := readN(t, c, 4); string(got) != "resp" {
		t.Fatalf("client read %q", got)
	}
	if st := c.Stats(); st.Written != 3 || st.Read != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestWrapSetLingerZeroResets(t *testing.T) {
	t.Parallel()
	rc, rs := rawTCPPair(t)
	c := faultnet.Wrap(rc)
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err := readAll(rs)
	wantErrno(t, err, "read", syscall.ECONNRESET)
}

func TestWrapCloseAfterReset(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, _ := tr.pair(t)
		c.Inject(faultnet.Reset())
		if err := c.Close(); err != nil {
			t.Errorf("Close after Reset = %v, want nil as after a received RST", err)
		}
		if err := c.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v", err)
		}
	})
}

func TestWrapNonTCP(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer b.Close()
	c := faultnet.Wrap(a, faultnet.WithFaults(faultnet.ShortReads(2)))
	defer c.Close()
	if f := c.Stats().Faults; len(f) != 1 {
		t.Errorf("WithFaults injected %q, want one fault", f)
	}
	for name, err := range map[string]error{
		"CloseWrite":          c.CloseWrite(),
		"CloseRead":           c.CloseRead(),
		"SetLinger":           c.SetLinger(0),
		"SetReadBuffer":       c.SetReadBuffer(1),
		"SetWriteBuffer":      c.SetWriteBuffer(1),
		"SetSocketBufferSize": faultnet.SetSocketBufferSize(a, 4096),
	} {
		if err == nil {
			t.Errorf("%s on a net.Pipe: nil error, want not supported", name)
		}
	}
	if err := c.SetNoDelay(true); err != nil {
		t.Errorf("SetNoDelay: %v", err)
	}
	go b.Write([]byte("abcdef"))
	buf := make([]byte, 10)
	if n, err := c.Read(buf); n != 2 || err != nil {
		t.Errorf("Read = %d, %v; want 2 bytes", n, err)
	}
	readN(t, c, 4)
	// Errors from the inner conn pass through.
	b.Close()
	if _, err := c.Read(buf); err != io.EOF {
		t.Errorf("Read after the peer closed: %v, want io.EOF", err)
	}
}

func TestSocketBuffersMakeStallsSmall(t *testing.T) {
	t.Parallel()
	c, s := tcpPair(t)
	s.Inject(faultnet.StallReads())
	total := fillUntilBlocked(t, c)
	if total > 512<<10 {
		t.Errorf("stalled after %d bytes with 4 KiB socket buffers", total)
	}
	t.Logf("a 4 KiB-buffered loopback connection absorbed %d bytes", total)
}

func TestSetSocketBufferSize(t *testing.T) {
	t.Parallel()
	rc, rs := rawTCPPair(t)
	if err := faultnet.SetSocketBufferSize(rc, 4096); err != nil {
		t.Fatal(err)
	}
	if err := faultnet.SetSocketBufferSize(faultnet.Wrap(rs), 4096); err != nil {
		t.Fatalf("SetSocketBufferSize through a wrapper: %v", err)
	}
	total := fillUntilBlocked(t, rc)
	if total > 512<<10 {
		t.Errorf("stalled after %d bytes", total)
	}
}

func TestWrapResetSendsRealRST(t *testing.T) {
	t.Parallel()
	rc, rs := rawTCPPair(t)
	c := faultnet.Wrap(rc)
	c.Inject(faultnet.Reset())
	_, err := readAll(rs)
	wantErrno(t, err, "read", syscall.ECONNRESET)
	// The wrapper reports the reset, not the close it used to send it.
	_, err = c.Read(make([]byte, 1))
	wantErrno(t, err, "read", syscall.ECONNRESET)
}

func TestWrapListenerAcceptsWrappedConns(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := faultnet.WrapListener(raw, faultnet.Name("api"))
	defer ln.Close()
	if ln.Addr() != raw.Addr() {
		t.Errorf("Addr = %v", ln.Addr())
	}
	acc := acceptAsync(ln)
	rc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	s, ok := awaitAccept(t, acc).(*faultnet.Conn)
	if !ok || s.Unwrap() == nil {
		t.Fatalf("accepted %T, want a wrapped *faultnet.Conn", s)
	}
	if s.String() != "api#1/server" {
		t.Errorf("name %q", s)
	}
}
