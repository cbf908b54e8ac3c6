package pubsub_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/examples/pubsub"
	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties"
)

// TestProtocol checks that both versions speak the protocol of the
// package documentation while every client reads.
func TestProtocol(t *testing.T) {
	exampletest.Both(t, pubsub.Serve, pubsub.ServeBroken, func(t *testing.T, srv *exampletest.Server) {
		sub, other, pub := dial(t, srv), dial(t, srv), dial(t, srv)
		sub.send("SUB news")
		sub.expect("OK")
		other.send("SUB sport")
		other.expect("OK")
		pub.send("PING")
		pub.expect("PONG")
		for _, bad := range []string{"HELLO", "SUB", "SUB a b", "PUB news", "PING x"} {
			pub.send(bad)
			if got, err := pub.next(); err != nil || !strings.HasPrefix(got, "ERR ") {
				t.Fatalf("%q: want ERR <reason>, got %q, %v", bad, got, err)
			}
		}
		pub.send("PUB news hello world")
		pub.expect("OK")
		sub.expect("MSG news hello world")
		pub.send("PUB sport goal")
		pub.expect("OK")
		other.expect("MSG sport goal")

		pub.send(strings.Repeat("x", pubsub.MaxLine+1))
		pub.expect("ERR line too long")
		// The rest of the long line is unread when the server closes, so
		// the close may come as a reset, as from a kernel.
		if got, err := pub.next(); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("after a line too long: want the connection closed, got %q, %v", got, err)
		}
	})
}

// stalledScenario connects a subscriber that never reads after its SUB, a
// healthy subscriber and a publisher, and publishes n messages of about 500
// bytes, far more than the stalled subscriber's buffers and pending bytes
// hold (exampletest.PublishEach). It returns how many publishes were
// answered within the bound before the first that was not (n if all were),
// and the error of that one.
func stalledScenario(t *testing.T, serve properties.ServeFunc, n int) (answered int, stalled *lineClient, err error) {
	srv := exampletest.Start(t, serve, 4<<10)
	stalled, healthy, pub := dial(t, srv), dial(t, srv), dial(t, srv)
	for _, c := range []*lineClient{stalled, healthy} {
		c.send("SUB news")
		c.expect("OK")
	}
	stalled.stall = stalled.conn.Inject(faultnet.StallReads())
	answered, err = exampletest.PublishEach(t, n, func(i int) error {
		pub.send("PUB news " + payload(i))
		line, err := pub.next()
		if err == nil && line != "OK" {
			t.Fatalf("publish %d: got %q, want OK", i, line)
		}
		return err
	}, healthy.next, func(i int) string { return "MSG news " + payload(i) })
	return answered, stalled, err
}

func payload(i int) string { return fmt.Sprintf("%05d-%s", i, strings.Repeat("p", 500)) }

// TestStalledSubscriberIsDisconnected: with Serve, a subscriber that stops
// reading costs the others nothing: every publish is answered, the healthy
// subscriber gets every message in order, and the stalled one, once it
// reads again, finds a prefix of the messages and then the end of its
// connection.
func TestStalledSubscriberIsDisconnected(t *testing.T) {
	const n = 2000
	answered, stalled, err := stalledScenario(t, pubsub.Serve, n)
	if answered != n {
		t.Fatalf("publish %d of %d not answered: %v", answered, n, err)
	}
	stalled.stall.Remove()
	i := 0
	for ; ; i++ {
		line, err := stalled.next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Logf("stalled subscriber's end: %v", err)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the stalled subscriber was not disconnected: it read %d messages, then nothing", i)
			}
			break
		}
		if want := "MSG news " + payload(i); line != want {
			t.Fatalf("stalled subscriber, message %d: got %q, want %q", i, line, want)
		}
	}
	if i == 0 || i >= n {
		t.Fatalf("the stalled subscriber read %d of %d messages before its end; want some, not all", i, n)
	}
	t.Logf("the stalled subscriber got %d of %d messages, then was disconnected", i, n)
}

// TestBrokenFreezes: the same scenario freezes ServeBroken, which proves
// that it drives the stalled subscriber's buffers full.
func TestBrokenFreezes(t *testing.T) {
	const n = 2000
	answered, _, err := stalledScenario(t, pubsub.ServeBroken, n)
	if answered == n {
		t.Fatalf("ServeBroken answered all %d publishes with a stalled subscriber", n)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("publish %d: want no answer within the bound, got %v", answered, err)
	}
	t.Logf("ServeBroken froze at publish %d of %d", answered, n)
}
