package sockdiag

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// childT starts this test binary as childServer, with env added to its
// environment, and returns its PID and address; it is killed at cleanup.
func childT(t *testing.T, env ...string) (pid int, addr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("child server: %v", err)
	}
	return cmd.Process.Pid, strings.TrimSpace(line)
}

// shrinkT calls ShrinkSendBuffer and skips the test where the system does
// not let it (no pidfd_getfd, or a sandbox that denies it).
func shrinkT(t *testing.T, s Socket, bytes, pidHint int) int {
	t.Helper()
	pid, err := ShrinkSendBuffer(s, bytes, pidHint)
	if errors.Is(err, ErrUnsupported) || errors.Is(err, syscall.EPERM) {
		t.Skipf("ShrinkSendBuffer not permitted here: %v", err)
	}
	if err != nil {
		t.Fatalf("ShrinkSendBuffer: %v", err)
	}
	return pid
}

// absorbedT waits until the server side of client is write-blocked with a
// closed window and returns the bytes the server has written: those the
// client's kernel holds unread plus those unacknowledged on the server.
func absorbedT(t *testing.T, c *Conn, client net.Conn) (total int, server Socket) {
	t.Helper()
	local, remote := ServerSide(client)
	defer func() { t.Logf("last: %v", server) }()
	eventually(t, "server never write-blocked", func() bool {
		var err error
		if server, err = c.Lookup(local, remote); err != nil {
			t.Fatalf("lookup: %v", err)
		}
		return server.WriteBlocked() && (!server.HasPeerWindow || server.PeerWindow == 0)
	})
	cs, err := c.Lookup(remote, local)
	if err != nil {
		t.Fatalf("lookup client side: %v", err)
	}
	return int(cs.RecvQueue) + int(server.SendQueue), server
}

// dialT connects to addr; with rcvbuf > 0 the client's receive buffer is
// set before the connection is made (so the window scale fits it).
func dialT(t *testing.T, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestShrinkOtherProcess: a server in another process that writes to a
// client that does not read is blocked after the client's window plus
// megabytes by default, and after kilobytes once its socket is shrunk.
func TestShrinkOtherProcess(t *testing.T) {
	const small = 16 << 10
	c := openT(t)
	pid, addr := childT(t)
	for _, rcvbuf := range []int{0, 4096} {
		plain := dialT(t, addr, rcvbuf)
		plain.Write([]byte("g"))
		plainTotal, plainSrv := absorbedT(t, c, plain)

		shrunk := dialT(t, addr, rcvbuf)
		// The server's socket has no inode until the child accepts it.
		s := acceptedT(t, c, shrunk)
		if got := shrinkT(t, s, small, pid); got != pid {
			t.Fatalf("ShrinkSendBuffer used pid %d, child %d", got, pid)
		}
		shrunk.Write([]byte("g"))
		shrunkTotal, shrunkSrv := absorbedT(t, c, shrunk)
		t.Logf("client rcvbuf %d: default: %d bytes absorbed (%v); shrunk to %d: %d bytes (%v)",
			rcvbuf, plainTotal, plainSrv, small, shrunkTotal, shrunkSrv)
		if shrunkSrv.SendBuffer != small {
			t.Errorf("send buffer %d after shrinking to %d", shrunkSrv.SendBuffer, small)
		}
		// The kernel starts a segment (64 KiB on loopback) while the queue
		// is under the limit: the queue can pass it by that much.
		if shrunkSrv.SendQueue > small+64<<10 {
			t.Errorf("server queued %d bytes after shrinking to %d", shrunkSrv.SendQueue, small)
		}
		if plainSrv.SendQueue < 4*(small+64<<10) && wmemMax(t) >= 1<<20 {
			t.Errorf("server queued only %d bytes with the host's default send buffer", plainSrv.SendQueue)
		}
	}
}

// TestShrinkAfterGrowth: shrinking a socket whose buffer autotuning has
// grown, while megabytes are queued, takes effect: the queue must drain
// below the new limit, and from then on the server is blocked after it.
func TestShrinkAfterGrowth(t *testing.T) {
	const small = 16 << 10
	c := openT(t)
	client, server := pairT(t, "127.0.0.1:0", "127.0.0.1")
	local, remote := ServerSide(client)
	written := 0
	eventually(t, "never blocked", func() bool {
		written += fillT(t, server, 64<<20)
		s, err := c.Lookup(local, remote)
		if err != nil {
			t.Fatal(err)
		}
		return s.WriteBlocked()
	})
	before, _ := c.Lookup(local, remote)
	shrinkT(t, before, small, os.Getpid())
	after, err := c.Lookup(local, remote)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before: %v\nafter shrinking: %v", before, after)
	if after.SendBuffer != small || !after.WriteBlocked() {
		t.Errorf("after shrinking to %d: %v", small, after)
	}
	// The client reads all; the server then writes until blocked again.
	drainT(t, client, written)
	eventually(t, "queue never drained", func() bool {
		s, err := c.Lookup(local, remote)
		if err != nil {
			t.Fatal(err)
		}
		return s.SendQueue == 0
	})
	refill := 0
	var s Socket
	eventually(t, "never blocked again", func() bool {
		refill += fillT(t, server, 64<<20)
		s, err = c.Lookup(local, remote)
		if err != nil {
			t.Fatal(err)
		}
		return s.WriteBlocked()
	})
	t.Logf("grown buffer: blocked after %d bytes; shrunk: blocked again after %d (%v)", written, refill, s)
	if s.SendBuffer != small || s.SendQueue > small+64<<10 {
		t.Errorf("after shrinking to %d the server queued %v", small, s)
	}
}

// TestShrinkScan: without a hint every process is searched (this one holds
// the socket); a socket no process holds is not found.
func TestShrinkScan(t *testing.T) {
	c := openT(t)
	client, server := pairT(t, "127.0.0.1:0", "127.0.0.1")
	s, err := c.Lookup(ServerSide(client))
	if err != nil {
		t.Fatal(err)
	}
	if pid := shrinkT(t, s, 8192, 0); pid != os.Getpid() {
		t.Fatalf("ShrinkSendBuffer used pid %d, want %d", pid, os.Getpid())
	}
	if s2, _ := c.Lookup(ServerSide(client)); s2.SendBuffer != 8192 {
		t.Errorf("send buffer %d after shrinking to 8192", s2.SendBuffer)
	}
	server.Close()
	if _, err := ShrinkSendBuffer(s, 8192, os.Getpid()); !errors.Is(err, ErrNotFound) {
		t.Errorf("shrinking a closed socket: %v, want ErrNotFound", err)
	}
	if _, err := ShrinkSendBuffer(Socket{Local: netip.MustParseAddrPort("127.0.0.1:1")}, 8192, 0); err == nil {
		t.Error("shrinking a socket without an inode succeeded")
	}
}

// wmemMax returns the host's largest autotuned send buffer
// (net.ipv4.tcp_wmem's third field).
func wmemMax(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("tcp_wmem %q: %v", b, err)
	}
	return n
}
