//go:build linux

package netns_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/netns"
)

// newNS makes a namespace or skips the test where this process may not.
func newNS(t testing.TB, sockBuf int) *netns.Namespace {
	t.Helper()
	ns, err := netns.New(sockBuf)
	if errors.Is(err, netns.ErrPermission) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}

func readSysctl(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// The sysctls are set in the namespace, and only there.
func TestSysctls(t *testing.T) {
	host := readSysctl(t, "tcp_wmem")
	ns := newNS(t, 16<<10)
	for _, name := range []string{"tcp_wmem", "tcp_rmem"} {
		var got string
		if err := ns.Do(func() error { got = readSysctl(t, name); return nil }); err != nil {
			t.Fatal(err)
		}
		if got != "4096 16384 16384" {
			t.Errorf("%s in the namespace = %q, want %q", name, got, "4096 16384 16384")
		}
	}
	if got := readSysctl(t, "tcp_wmem"); got != host {
		t.Errorf("the host's tcp_wmem changed from %q to %q", host, got)
	}
}

// A command started in the namespace is in it; one started outside is not.
func TestStartInherits(t *testing.T) {
	ns := newNS(t, 0)
	var inside string
	if err := ns.Do(func() error {
		var err error
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// This thread's namespace, not /proc/self's: that is the main
	// thread's, which a Do may have moved (a goroutine locked to the
	// main thread that exits leaves it so).
	runtime.LockOSThread()
	host, err := os.Readlink("/proc/thread-self/ns/net")
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	if inside == host {
		t.Fatalf("Do ran in the host's namespace %s", host)
	}
	var out strings.Builder
	cmd := exec.Command("readlink", "/proc/self/ns/net")
	cmd.Stdout = &out
	waited, err := ns.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != inside {
		t.Errorf("the command ran in %s, want the namespace %s (host: %s)", got, inside, host)
	}
}

// writeUntilBlocked writes to c until a write makes no progress for
// 300 ms, and returns the bytes written (at most 64 MiB).
func writeUntilBlocked(t testing.TB, c net.Conn) int64 {
	t.Helper()
	buf := make([]byte, 64<<10)
	var total int64
	for total < 64<<20 {
		c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Write(buf)
		total += int64(n)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
	}
	return total
}

// stallAbsorbed connects a client that never reads to a server socket
// made by listen/dial, and returns what the server writes before it
// blocks.
func stallAbsorbed(t testing.TB, listen func() (net.Listener, error), dial func(addr string) (net.Conn, error)) int64 {
	t.Helper()
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	return writeUntilBlocked(t, server)
}

// In the namespace, a client that stops reading blocks the server's
// writes after tens of kilobytes, not the megabytes of the host's
// loopback.
func TestStallAbsorbed(t *testing.T) {
	ns := newNS(t, 16<<10)
	n := stallAbsorbed(t,
		func() (net.Listener, error) { return ns.Listen("tcp", "127.0.0.1:0") },
		func(addr string) (net.Conn, error) { return ns.Dial(context.Background(), nil, "tcp", addr) })
	t.Logf("a stalled client absorbed %d bytes in the namespace", n)
	if n >= 100<<10 {
		t.Errorf("a stalled client absorbed %d bytes in a namespace with 16 KiB buffers, want < 100 KiB", n)
	}
	if n == 0 {
		t.Errorf("the server wrote nothing")
	}
}

// BenchmarkStallAbsorbed: the bytes a stalled client absorbs before the
// server's Write blocks (the "bytes" metric), on the host's loopback and
// in namespaces with small socket buffers.
func BenchmarkStallAbsorbed(b *testing.B) {
	b.Run("host-loopback", func(b *testing.B) {
		benchAbsorbed(b, func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }, func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) })
	})
	for _, kb := range []int{16 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("namespace-%dKiB", kb>>10), func(b *testing.B) {
			ns := newNS(b, kb)
			benchAbsorbed(b, func() (net.Listener, error) { return ns.Listen("tcp", "127.0.0.1:0") },
				func(addr string) (net.Conn, error) { return ns.Dial(context.Background(), nil, "tcp", addr) })
		})
	}
}

func benchAbsorbed(b *testing.B, listen func() (net.Listener, error), dial func(string) (net.Conn, error)) {
	var sum float64
	for range b.N {
		sum += float64(stallAbsorbed(b, listen, dial))
	}
	b.ReportMetric(sum/float64(b.N), "bytes")
}
