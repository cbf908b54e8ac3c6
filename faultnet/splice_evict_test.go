package faultnet_test

import (
	"io"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// A server that evicts a client which stopped reading (closes or resets
// its connection) is seen at once on the stalled client's end of a splice,
// though the splice is blocked writing to that end and reads nothing from
// the server: a reset resets the client; a close is logged (far-close) and
// leaves the data before it, then the EOF, for the client to read, in
// order, as a real TCP client would.

// evictStalled writes a counting pattern to server until a write makes no
// progress for a while (the client has stopped reading and every buffer
// on the way is full), then closes it, with reset as an RST. It returns
// the bytes written.
func evictStalled(t *testing.T, server net.Conn, reset bool) int {
	t.Helper()
	buf := make([]byte, 4<<10)
	total := 0
	for {
		for i := range buf {
			buf[i] = byte((total + i) % 251)
		}
		server.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := server.Write(buf)
		total += n
		if err != nil {
			wantTimeout(t, err)
			break
		}
	}
	if reset {
		server.(*net.TCPConn).SetLinger(0)
	}
	server.Close()
	return total
}

func TestSpliceSeesServerCloseOfStalledClient(t *testing.T) {
	t.Parallel()
	client, server, _ := spliced(t)
	total := evictStalled(t, server, false)
	closedAt := time.Now()
	end := client.Peer()
	for !slices.ContainsFunc(end.Events(), func(e faultnet.Event) bool { return e.Kind == faultnet.EventFarClose }) {
		if time.Since(closedAt) > liveness {
			t.Fatalf("the server closed the stalled client %v ago; the client's end logged no far-close: %v", liveness, end.Events())
		}
		time.Sleep(10 * time.Millisecond) // polling the event log
	}
	t.Logf("far-close logged %v after the server's close", time.Since(closedAt).Round(time.Millisecond))
	// The client resumes: every byte the server wrote arrives, in order,
	// then io.EOF.
	client.SetReadDeadline(time.Now().Add(liveness))
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("after %d of %d bytes: %v", len(got), total, err)
	}
	if len(got) != total {
		t.Fatalf("client read %d bytes, the server wrote %d", len(got), total)
	}
	for i, b := range got {
		if b != byte(i%251) {
			t.Fatalf("byte %d is %d, want %d: out of order", i, b, i%251)
		}
	}
}

func TestSpliceResetsStalledClientOnServerReset(t *testing.T) {
	t.Parallel()
	client, server, wait := spliced(t)
	evictStalled(t, server, true)
	resetAt := time.Now()
	// The splice resets the client's end at once, while the client still
	// does not read, and the data in flight is dropped, as an RST drops it.
	end := client.Peer()
	for !slices.ContainsFunc(end.Events(), func(e faultnet.Event) bool { return e.Kind == faultnet.EventClose }) {
		if time.Since(resetAt) > liveness {
			t.Fatalf("the server reset the stalled client %v ago; the splice did not close the client's end: %v", liveness, end.Events())
		}
		time.Sleep(10 * time.Millisecond) // polling the event log
	}
	t.Logf("client's end reset %v after the server's", time.Since(resetAt).Round(time.Millisecond))
	_, err := client.Read(make([]byte, 1))
	wantErrno(t, err, "read", syscall.ECONNRESET)
	wantErrno(t, waitWithin(t, wait), "read", syscall.ECONNRESET)
}
