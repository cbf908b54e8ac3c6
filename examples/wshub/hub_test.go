package wshub_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/stallproof/stallproof/examples/internal/servetest"
	"github.com/stallproof/stallproof/examples/wshub"
	"github.com/stallproof/stallproof/faultnet"
)

var servers = []struct {
	name  string
	serve servetest.ServeFunc
}{
	{"Serve", wshub.Serve},
	{"ServeBroken", wshub.ServeBroken},
}

// TestBroadcast checks that both versions broadcast every message to every
// client, the sender included, while every client reads.
func TestBroadcast(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			srv := servetest.Start(t, s.serve, 64<<10)
			a, b := join(t, srv), join(t, srv)
			a.send(t, "from a")
			b.send(t, "from b")
			for _, c := range []*wsClient{a, b} {
				got := map[string]bool{c.next(t): true, c.next(t): true}
				if !got["from a"] || !got["from b"] {
					t.Fatalf("got %v, want both messages", got)
				}
			}
		})
	}
}

// stalledScenario connects a client that stops reading once joined, a
// healthy one, and a sender that sends n messages of about 100 bytes, far
// more than the stalled client's buffers and queue hold, each once the last
// came back to it. It returns how many came back within the bound before
// the first that did not (n if all did), and that one's error.
func stalledScenario(t *testing.T, serve servetest.ServeFunc, n int) (echoed int, stalled *wsClient, err error) {
	srv := servetest.Start(t, serve, 4<<10)
	stalled = join(t, srv)
	stalled.stall = stalled.raw.Inject(faultnet.StallReads())
	healthy, sender := join(t, srv), join(t, srv)

	got := make(chan error, 1)
	go func() { // the healthy client reads everything, in order
		for i := range n {
			msg, err := healthy.nextErr()
			if err != nil {
				got <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			if msg != payload(i) {
				got <- fmt.Errorf("message %d: got %q, want %q", i, msg, payload(i))
				return
			}
		}
		got <- nil
	}()
	for echoed = 0; echoed < n; echoed++ {
		sender.send(t, payload(echoed))
		msg, err := sender.nextErr()
		if err != nil {
			healthy.conn.Close() // ends the reader
			<-got
			return echoed, stalled, err
		}
		if msg != payload(echoed) {
			t.Fatalf("echo %d: got %q", echoed, msg)
		}
	}
	if err := <-got; err != nil {
		t.Errorf("healthy client: %v", err)
	}
	return n, stalled, nil
}

// TestStalledClientIsDropped: with Serve, a client that stops reading
// costs the others nothing, and once it reads again it finds a prefix of
// the messages and then the end of its connection.
func TestStalledClientIsDropped(t *testing.T) {
	const n = 1500
	echoed, stalled, err := stalledScenario(t, wshub.Serve, n)
	if echoed != n {
		t.Fatalf("message %d of %d did not come back: %v", echoed, n, err)
	}
	stalled.stall.Remove()
	i := 0
	for msg := range stalled.msgs {
		if msg != payload(i) {
			t.Fatalf("stalled client, message %d: got %q, want %q", i, msg, payload(i))
		}
		i++
	}
	if i == 0 || i >= n {
		t.Fatalf("the stalled client read %d of %d messages before the end (%v); want some, not all", i, n, stalled.err)
	}
	if !websocket.IsCloseError(stalled.err, websocket.ClosePolicyViolation) {
		t.Logf("the connection ended without the close message: %v", stalled.err)
	}
	t.Logf("the stalled client got %d of %d messages, then the end: %v", i, n, stalled.err)
}

// TestBrokenFreezes: the same scenario freezes ServeBroken, which proves
// that it drives the stalled client's buffers full.
func TestBrokenFreezes(t *testing.T) {
	const n = 1500
	echoed, _, err := stalledScenario(t, wshub.ServeBroken, n)
	if echoed == n {
		t.Fatalf("ServeBroken echoed all %d messages with a stalled client", n)
	}
	if !errors.Is(err, errNoMessage) {
		t.Fatalf("message %d: want no echo within the bound, got %v", echoed, err)
	}
	t.Logf("ServeBroken froze at message %d of %d: %v", echoed, n, err)
}
