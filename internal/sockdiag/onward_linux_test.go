package sockdiag

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
)

// acceptedT returns the kernel's view of the server's end of client once
// the server has accepted it (before that, it has no inode).
func acceptedT(t *testing.T, c *Conn, client net.Conn) Socket {
	t.Helper()
	var s Socket
	eventually(t, "the server never accepted", func() bool {
		var err error
		if s, err = c.Lookup(ServerSide(client)); err != nil {
			t.Fatal(err)
		}
		return s.Inode != 0
	})
	return s
}

// onwardT calls Onward and skips the test where the system does not let
// it (no pidfd_getfd, or a sandbox that denies it).
func onwardT(t *testing.T, s Socket, pidHint int, ours func(netip.AddrPort) bool) (int, string) {
	t.Helper()
	pid, onward, err := Onward(s, pidHint, ours)
	if errors.Is(err, ErrUnsupported) || errors.Is(err, syscall.EPERM) {
		t.Skipf("Onward not permitted here: %v", err)
	}
	if err != nil {
		t.Fatalf("Onward: %v", err)
	}
	return pid, onward
}

// TestOnwardServerInAnotherProcess: a server that holds only its listener
// and the connections it accepted leads nowhere else; the same server
// holding a connection it made to another (a relay's to the server behind
// it) is named.
func TestOnwardServerInAnotherProcess(t *testing.T) {
	c := openT(t)
	pid, addr := childT(t)
	for range 2 {
		dialT(t, addr, 0) // a second client: accepted too
	}
	got, onward := onwardT(t, acceptedT(t, c, dialT(t, addr, 0)), 0, nil)
	if got != pid || onward != "" {
		t.Errorf("a server alone: Onward = %d, %q; want %d, \"\"", got, onward, pid)
	}

	upstream, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer upstream.Close()
	pid, addr = childT(t, childDialEnv+"="+upstream.Addr().String())
	got, onward = onwardT(t, acceptedT(t, c, dialT(t, addr, 0)), pid, nil)
	if got != pid || !strings.Contains(onward, "a TCP connection it made") || !strings.Contains(onward, upstream.Addr().String()) {
		t.Errorf("a relay: Onward = %d, %q; want %d and its connection to %v", got, onward, pid, upstream.Addr())
	}
}

// TestOnwardInThisProcess: in the caller's own process, its own
// connections (ours) and a socket pair between its threads lead nowhere;
// any other connection it made, or a UDP socket, may.
func TestOnwardInThisProcess(t *testing.T) {
	c := openT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client := dialT(t, ln.Addr().String(), 0)
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	s := acceptedT(t, c, client)
	mine := client.LocalAddr().(*net.TCPAddr).AddrPort()
	ours := func(local netip.AddrPort) bool { return local == mine }

	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(pair[0])
	defer syscall.Close(pair[1])
	if pid, onward := onwardT(t, s, 0, ours); pid != os.Getpid() || onward != "" {
		t.Errorf("only ours and a socket pair: Onward = %d, %q; want %d, \"\"", pid, onward, os.Getpid())
	}
	if _, onward := onwardT(t, s, 0, nil); !strings.Contains(onward, "a TCP connection it made, "+mine.String()) {
		t.Errorf("without ours: Onward = %q; want the connection from %v", onward, mine)
	}

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	if _, onward := onwardT(t, s, 0, ours); !strings.Contains(onward, "datagram") {
		t.Errorf("with a UDP socket: Onward = %q; want it named", onward)
	}
}
