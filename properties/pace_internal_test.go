package properties

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// pacedPair returns an env whose one healthy client has behind bytes
// waiting for it to read, in memory, and that client's connection.
func pacedPair(t *testing.T, behind int) (*env, *client, *faultnet.Conn) {
	t.Helper()
	ln := faultnet.Listen(faultnet.BufferSize(64 << 10))
	t.Cleanup(func() { ln.Close() })
	conn, err := ln.Dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); srv.Close() })
	if _, err := srv.Write(make([]byte, behind)); err != nil {
		t.Fatal(err)
	}
	e := &env{cfg: &config{}, ctx: context.Background(), bound: 2 * time.Second, start: time.Now()}
	c := &client{id: 1, kind: healthy, env: e, conn: conn, done: make(chan struct{})}
	f := &client{id: 2, kind: flooder, env: e}
	e.clients = []*client{c, f}
	return e, f, conn
}

// TestPacerSkipsAClientWhoseReaderEnded: nobody will read what waits for
// a client whose reader has ended; the flood does not wait for it.
func TestPacerSkipsAClientWhoseReaderEnded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, f, _ := pacedPair(t, 3*paceLag)
		close(e.clients[0].done)
		p := e.pacer(f)
		p.wait()
		if p.off || p.waited != 0 {
			t.Fatalf("off %v, waited %v; want no wait at all", p.off, p.waited)
		}
	})
}

// TestPacerWaitsForABehindReader: a flood waits while a healthy client has
// more than paceLag bytes unread, and goes on once it has read them.
func TestPacerWaitsForABehindReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, f, conn := pacedPair(t, 3*paceLag)
		p := e.pacer(f)
		done := make(chan struct{})
		go func() { p.wait(); close(done) }()
		time.Sleep(time.Second) // virtual: the pacer polls, the reader reads nothing
		synctest.Wait()
		select {
		case <-done:
			t.Fatalf("wait returned with %d bytes unread by a healthy client", conn.Stats().Unread)
		default:
		}
		if _, err := io.ReadFull(conn, make([]byte, 2*paceLag)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatalf("wait still waiting with %d bytes unread (limit %d)", conn.Stats().Unread, paceLag)
		}
		if p.off || p.waited < time.Second {
			t.Errorf("off %v, waited %v; want on, and a second or more", p.off, p.waited)
		}
	})
}

// TestPacerGivesUpAfterTheBound: a healthy client that stays behind for
// the bound turns pacing off for the rest of the flood.
func TestPacerGivesUpAfterTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, f, _ := pacedPair(t, 3*paceLag)
		p := e.pacer(f)
		start := time.Now()
		p.wait()
		if !p.off || time.Since(start) < e.bound {
			t.Fatalf("off %v after %v; want off after the bound, %v", p.off, time.Since(start), e.bound)
		}
		start = time.Now()
		p.wait() // off: returns at once
		if d := time.Since(start); d != 0 {
			t.Errorf("a second wait took %v of virtual time; want none", d)
		}
	})
}
