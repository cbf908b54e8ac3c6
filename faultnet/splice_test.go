package faultnet_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// spliced returns a test client (in memory) spliced to a real loopback TCP
// connection, the far end of which it returns as server, and the splice's
// Wait. Cleanup closes everything and waits for the splice.
func spliced(t testing.TB) (client *faultnet.Conn, server net.Conn, wait func() error) {
	t.Helper()
	client, end := faultnet.Pipe()
	a, b := rawTCPPair(t)
	sp := faultnet.Splice(end, faultnet.Wrap(a))
	t.Cleanup(func() {
		client.Close()
		b.Close()
		waitWithin(t, sp.Close)
	})
	return client, b, sp.Wait
}

// waitWithin calls wait and fails the test if it takes longer than the
// liveness bound.
func waitWithin(t testing.TB, wait func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- wait() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(liveness):
		t.Fatalf("splice still running %v after its connections closed", liveness)
		return nil
	}
}

func TestSpliceCopiesBothWaysAndForwardsHalfClose(t *testing.T) {
	t.Parallel()
	client, server, wait := spliced(t)
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, server, 4); string(got) != "ping" {
		t.Fatalf("server read %q", got)
	}
	// The client half-closes: the server reads io.EOF and can still answer.
	if err := client.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(server); len(got) != 0 || err != io.EOF {
		t.Fatalf("server read %q, %v after the client's CloseWrite; want io.EOF", got, err)
	}
	want := pattern(100 << 10)
	go func() {
		server.Write(want)
		server.(*net.TCPConn).CloseWrite()
	}()
	got, err := readAll(client)
	if err != io.EOF || !bytes.Equal(got, want) {
		t.Fatalf("client read %d bytes (equal: %v), %v; want %d bytes then io.EOF", len(got), bytes.Equal(got, want), err, len(want))
	}
	if err := waitWithin(t, wait); err != nil {
		t.Fatalf("wait after both half-closes = %v, want nil", err)
	}
}

// TestSpliceBackPressure proves the zero window passes through a splice:
// with in-memory connections on both sides, a reader that stops reading
// stops the writer after exactly the buffers plus at most one chunk in the
// splice, and the writer resumes when the reader does.
func TestSpliceBackPressure(t *testing.T) {
	t.Parallel()
	const buf = 16 << 10
	writer, e1 := faultnet.Pipe(faultnet.BufferSize(buf))
	e2, reader := faultnet.Pipe(faultnet.BufferSize(buf))
	sp := faultnet.Splice(e1, e2)
	t.Cleanup(func() {
		writer.Close()
		reader.Close()
		waitWithin(t, sp.Close)
	})
	absorbed := fillUntilBlocked(t, writer)
	// Both pipes' buffers are full; the splice holds at most one chunk.
	if lo, hi := 2*buf, 2*buf+32<<10; absorbed < lo || absorbed > hi {
		t.Fatalf("the writer blocked after %d bytes; want %d..%d (two buffers and at most one chunk)", absorbed, lo, hi)
	}
	// The reader reads again: the blocked write completes and every byte
	// arrives in order.
	more := pattern(64 << 10)
	w := writeAsync(writer, more)
	stillBlocked(t, w, "a write to the stalled reader")
	got := readN(t, reader, absorbed+len(more))
	if r := await(t, w); r.err != nil || r.n != len(more) {
		t.Fatalf("write after the reader resumed = %d, %v", r.n, r.err)
	}
	if !bytes.Equal(got[absorbed:], more) {
		t.Fatal("bytes written after the stall arrived corrupted")
	}
}

func TestSpliceForwardsResetFromFaultnet(t *testing.T) {
	t.Parallel()
	client, server, wait := spliced(t)
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	readN(t, server, 1)
	client.Inject(faultnet.Reset())
	_, err := readAll(server)
	wantErrno(t, err, "read", syscall.ECONNRESET)
	if err := waitWithin(t, wait); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("wait = %v, want ECONNRESET", err)
	}
}

func TestSpliceForwardsResetFromTCP(t *testing.T) {
	t.Parallel()
	client, server, wait := spliced(t)
	if _, err := server.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	readN(t, client, 1)
	server.(*net.TCPConn).SetLinger(0)
	server.Close()
	_, err := readAll(client)
	wantErrno(t, err, "read", syscall.ECONNRESET)
	if err := waitWithin(t, wait); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("wait = %v, want ECONNRESET", err)
	}
}

// TestSpliceStopsOnClose: Close, even while a direction is blocked on a
// stalled reader, ends both goroutines
// (goleak checks that none is left when the package's tests end).
func TestSpliceStopsOnClose(t *testing.T) {
	t.Parallel()
	client, end := faultnet.Pipe()
	a, server := rawTCPPair(t)
	wa := faultnet.Wrap(a)
	sp := faultnet.Splice(end, wa)
	defer client.Close()
	client.Inject(faultnet.StallReads())
	w := writeAsync(server, make([]byte, 8<<20)) // more than every buffer on the way
	stillBlocked(t, w, "a write to a stalled client")
	if err := waitWithin(t, sp.Close); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	select {
	case <-sp.Done():
	default:
		t.Fatal("Close returned before the splice ended")
	}
	if r := await(t, w); r.err == nil {
		t.Fatal("the server's blocked write succeeded after the splice closed")
	}
}

// TestSpliceClosingWithUnreadDataResets: a client that closes with data
// unread resets its connection, as TCP's does, and the splice forwards the
// reset to the server.
func TestSpliceClosingWithUnreadDataResets(t *testing.T) {
	t.Parallel()
	client, server, wait := spliced(t)
	client.Inject(faultnet.StallReads())
	w := writeAsync(server, make([]byte, 8<<20))
	stillBlocked(t, w, "a write to a stalled client")
	client.Close()
	if err := waitWithin(t, wait); !isResetErr(err) {
		t.Fatalf("wait = %v, want EPIPE or ECONNRESET", err)
	}
	r := await(t, w)
	wantErrno(t, r.err, "write", syscall.ECONNRESET, syscall.EPIPE)
}

func isResetErr(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
