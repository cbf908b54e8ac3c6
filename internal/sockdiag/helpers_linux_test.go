package sockdiag

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// openT opens a Conn closed at the test's cleanup.
func openT(t testing.TB) *Conn {
	t.Helper()
	c, err := Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pairT returns a connected client and server over loopback, listening on
// listenAddr and dialling dialHost; both are closed at cleanup. It skips
// the test when the address family is not available.
func pairT(t testing.TB, listenAddr, dialHost string) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		t.Skipf("listen %s: %v", listenAddr, err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp", net.JoinHostPort(dialHost, itoa(port)))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

func itoa(n int) string { return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(n)).String()[8:] }

// fillT writes to w without waiting until the kernel refuses more (EAGAIN),
// at most limit bytes, and returns the bytes written.
func fillT(t testing.TB, w *net.TCPConn, limit int) int {
	t.Helper()
	rc, err := w.SyscallConn()
	if err != nil {
		t.Fatalf("SyscallConn: %v", err)
	}
	chunk := make([]byte, 64<<10)
	total := 0
	for total < limit {
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			n, werr = syscall.Write(int(fd), chunk)
			return true
		}); err != nil {
			t.Fatalf("raw write: %v", err)
		}
		if errors.Is(werr, syscall.EAGAIN) {
			return total
		}
		if werr != nil {
			t.Fatalf("write: %v", werr)
		}
		total += n
	}
	t.Fatalf("wrote %d bytes and the kernel still took more", total)
	return total
}

// eventually polls cond until it holds or 10 seconds pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		<-tick.C
	}
}

// drainT reads n bytes from r.
func drainT(t testing.TB, r net.Conn, n int) {
	t.Helper()
	if err := r.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
		t.Fatalf("reading %d bytes back: %v", n, err)
	}
}
