package faultnet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// liveness bounds an operation that must finish: generous, since a frozen
// connection is infinitely slow and a slow machine is not.
const liveness = 10 * time.Second

// blockWait is how long an operation that must block is given to prove it:
// the assertion is "it did not return", never "it took exactly this long".
const blockWait = 50 * time.Millisecond

// fillWait is blockWait for a Write that must first fill a buffer of
// kilobytes and then block: long enough to fill it on a loaded machine.
const fillWait = time.Second

// transport makes connected pairs of *faultnet.Conn.
type transport struct {
	name   string
	memory bool
	pair   func(t testing.TB, opts ...faultnet.Option) (client, server *faultnet.Conn)
}

var transports = []transport{
	{"memory", true, memoryPair},
	{"tcp", false, tcpPair},
}

func memoryPair(t testing.TB, opts ...faultnet.Option) (client, server *faultnet.Conn) {
	t.Helper()
	client, server = faultnet.Pipe(opts...)
	t.Cleanup(func() {
		_ = client.Close()
		_ = server.Close()
	})
	return client, server
}

// tcpPair connects two wrapped loopback TCP connections with 4 KiB socket
// buffers, so a stalled reader blocks its peer after tens of KiB.
func tcpPair(t testing.TB, opts ...faultnet.Option) (client, server *faultnet.Conn) {
	t.Helper()
	ln, err := faultnet.ListenTCP("127.0.0.1:0", append([]faultnet.Option{faultnet.SocketBufferSize(4096)}, opts...)...)
	if err != nil {
		t.Fatalf("ListenTCP: %v", err)
	}
	defer ln.Close()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		accepted <- result{c, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	client, err = ln.Dial(ctx)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	r := <-accepted
	if r.err != nil {
		client.Close()
		t.Fatalf("Accept: %v", r.err)
	}
	server = r.c.(*faultnet.Conn)
	t.Cleanup(func() {
		_ = client.Close()
		_ = server.Close()
	})
	return client, server
}

// forEach runs f as a subtest on each transport.
func forEach(t *testing.T, f func(t *testing.T, tr transport)) {
	t.Helper()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { f(t, tr) })
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// readN reads exactly n bytes within the liveness bound.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(liveness))
	defer c.SetReadDeadline(time.Time{})
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return b
}

// readAll reads until an error within the liveness bound and returns the
// bytes and the error (io.EOF included).
func readAll(c net.Conn) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(liveness))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
	}
}

// writeAsync writes p in a goroutine and returns a channel with the result.
type ioResult struct {
	n   int
	err error
}

func writeAsync(c net.Conn, p []byte) <-chan ioResult {
	ch := make(chan ioResult, 1)
	go func() {
		n, err := c.Write(p)
		ch <- ioResult{n, err}
	}()
	return ch
}

func readAsync(c net.Conn, p []byte) <-chan ioResult {
	ch := make(chan ioResult, 1)
	go func() {
		n, err := c.Read(p)
		ch <- ioResult{n, err}
	}()
	return ch
}

// await waits for an async result within the liveness bound.
func await(t testing.TB, ch <-chan ioResult) ioResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(liveness):
		t.Fatalf("operation still blocked after %v", liveness)
		return ioResult{}
	}
}

// stillBlocked asserts that nothing arrives on ch for a short while.
func stillBlocked(t testing.TB, ch <-chan ioResult, what string) {
	t.Helper()
	stillBlockedFor(t, ch, what, blockWait)
}

// stillBlockedFor asserts that nothing arrives on ch for d.
func stillBlockedFor(t testing.TB, ch <-chan ioResult, what string, d time.Duration) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s returned (%d, %v), want it blocked", what, r.n, r.err)
	case <-time.After(d):
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

func wantTimeout(t testing.TB, err error) {
	t.Helper()
	if !isTimeout(err) {
		t.Fatalf("err = %v, want a timeout (net.Error.Timeout and os.ErrDeadlineExceeded)", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %#v, want a *net.OpError", err)
	}
}

func wantErrno(t testing.TB, err error, op string, errnos ...syscall.Errno) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v (%T), want a *net.OpError wrapping %v", err, err, errnos)
	}
	if op != "" && oe.Op != op {
		t.Errorf("err.Op = %q, want %q (%v)", oe.Op, op, err)
	}
	for _, e := range errnos {
		if errors.Is(err, e) {
			return
		}
	}
	t.Fatalf("err = %v, want one of %v", err, errnos)
}

// fillUntilBlocked writes to c until a Write times out and returns the total
// the peer can read.
func fillUntilBlocked(t testing.TB, c net.Conn) int {
	t.Helper()
	return writeUntilBlocked(t, c, 64<<20)
}

// writeUntilBlocked reports how many bytes a writer to c manages before
// its Write blocks: it writes until a Write makes no progress for
// fillWait, and fails the test if it has written max without blocking.
// Not blockWait: what moves the bytes on (a splice's goroutines, the
// kernel) may not run for 50 ms on a loaded machine, and a writer that
// waited only that long blocked after one buffer of two (once in a run of
// go test ./... beside the other packages).
func writeUntilBlocked(t testing.TB, c net.Conn, max int) int {
	t.Helper()
	buf := make([]byte, 4<<10)
	total := 0
	for total < max {
		c.SetWriteDeadline(time.Now().Add(fillWait))
		n, err := c.Write(buf)
		total += n
		if err != nil {
			wantTimeout(t, err)
			c.SetWriteDeadline(time.Time{})
			return total
		}
	}
	t.Fatalf("wrote %d bytes without blocking", total)
	return 0
}

func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }
