package wshub_test

import (
	"errors"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/examples/wshub"
	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties"
)

// TestBroadcast checks that both versions broadcast every message to every
// client, the sender included, while every client reads.
func TestBroadcast(t *testing.T) {
	exampletest.Both(t, wshub.Serve, wshub.ServeBroken, func(t *testing.T, srv *exampletest.Server) {
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

// stalledScenario connects a client that stops reading once joined, a
// healthy one, and a sender that sends n messages of about 100 bytes, far
// more than the stalled client's buffers and queue hold, each once the last
// came back to it (exampletest.PublishEach). It returns how many came back
// within the bound before the first that did not (n if all did), and that
// one's error.
func stalledScenario(t *testing.T, serve properties.ServeFunc, n int) (echoed int, stalled *wsClient, err error) {
	srv := exampletest.Start(t, serve, 4<<10)
	stalled = join(t, srv)
	stalled.stall = stalled.raw.Inject(faultnet.StallReads())
	healthy, sender := join(t, srv), join(t, srv)
	echoed, err = exampletest.PublishEach(t, n, func(i int) error {
		sender.send(t, payload(i))
		msg, err := sender.msgs.Next()
		if err == nil && msg != payload(i) {
			t.Fatalf("echo %d: got %q", i, msg)
		}
		return err
	}, healthy.msgs.Next, payload)
	return echoed, stalled, err
}

// TestStalledClientIsDropped: with Serve, a client that stops reading
// costs the others nothing, and once it reads again it finds a prefix of
// the messages and then the end of its connection.
func TestStalledClientIsDropped(t *testing.T) {
	const n = 2*wshub.QueueLen + 1000
	echoed, stalled, err := stalledScenario(t, wshub.Serve, n)
	if echoed != n {
		t.Fatalf("message %d of %d did not come back: %v", echoed, n, err)
	}
	stalled.stall.Remove()
	i := 0
	for msg := range stalled.msgs.All() {
		if msg != payload(i) {
			t.Fatalf("stalled client, message %d: got %q, want %q", i, msg, payload(i))
		}
		i++
	}
	if i == 0 || i >= n {
		t.Fatalf("the stalled client read %d of %d messages before the end (%v); want some, not all", i, n, stalled.msgs.Err())
	}
	if !websocket.IsCloseError(stalled.msgs.Err(), websocket.ClosePolicyViolation) {
		t.Logf("the connection ended without the close message: %v", stalled.msgs.Err())
	}
	t.Logf("the stalled client got %d of %d messages, then the end: %v", i, n, stalled.msgs.Err())
}

// TestBrokenFreezes: the same scenario freezes ServeBroken, which proves
// that it drives the stalled client's buffers full.
func TestBrokenFreezes(t *testing.T) {
	const n = 1500
	echoed, _, err := stalledScenario(t, wshub.ServeBroken, n)
	if echoed == n {
		t.Fatalf("ServeBroken echoed all %d messages with a stalled client", n)
	}
	if !errors.Is(err, exampletest.ErrNoMessage) {
		t.Fatalf("message %d: want no echo within the bound, got %v", echoed, err)
	}
	t.Logf("ServeBroken froze at message %d of %d: %v", echoed, n, err)
}
