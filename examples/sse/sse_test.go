package sse_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/examples/sse"
	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties"
)

// TestProtocol checks that both versions speak the protocol of the
// package documentation while every client reads.
func TestProtocol(t *testing.T) {
	exampletest.Both(t, sse.Serve, sse.ServeBroken, func(t *testing.T, srv *exampletest.Server) {
		a, b := subscribe(t, srv), subscribe(t, srv)
		pub := httpClient(srv)
		defer pub.CloseIdleConnections()
		for _, bad := range []struct {
			msg  string
			code int
		}{
			{"two\nlines", http.StatusBadRequest},
			{strings.Repeat("x", sse.MaxMessage+1), http.StatusRequestEntityTooLarge},
		} {
			if code, err := publish(pub, bad.msg); err != nil || code != bad.code {
				t.Errorf("publish %.20q: got %d, %v; want %d", bad.msg, code, err, bad.code)
			}
		}
		resp, err := pub.Get("http://sse.test/publish")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /publish: %s, want 405", resp.Status)
		}
		for i := 1; i <= 3; i++ {
			if code, err := publish(pub, "hello "+strconv.Itoa(i)); err != nil || code != http.StatusNoContent {
				t.Fatalf("publish: %d, %v", code, err)
			}
		}
		for _, sub := range []*stream{a, b} {
			for i := 1; i <= 3; i++ {
				want := event{id: strconv.Itoa(i), data: "hello " + strconv.Itoa(i)}
				if ev := sub.next(t); ev != want {
					t.Fatalf("got %+v, want %+v", ev, want)
				}
			}
		}
	})
}

// stalledScenario opens a stream that stops reading after its subscribed
// event, and a healthy one, and publishes n messages of about 100 bytes,
// far more than the stalled stream's buffers and queue hold
// (exampletest.PublishEach). It returns how many publishes were answered
// before the first that was not (n if all were) and that one's error.
func stalledScenario(t *testing.T, serve properties.ServeFunc, n int) (answered int, stalled *stream, err error) {
	srv := exampletest.Start(t, serve, 4<<10)
	stalled = subscribe(t, srv)
	stalled.stall = stalled.conn.Inject(faultnet.StallReads())
	healthy := subscribe(t, srv)
	pub := httpClient(srv)
	defer pub.CloseIdleConnections()
	answered, err = exampletest.PublishEach(t, n, func(i int) error {
		code, err := publish(pub, payload(i))
		if err == nil && code != http.StatusNoContent {
			t.Fatalf("publish %d: status %d", i, code)
		}
		return err
	}, func() (string, error) {
		ev, err := healthy.events.Next()
		return ev.data, err
	}, payload)
	return answered, stalled, err
}

// TestStalledSubscriberIsDropped: with Serve, a subscriber that stops
// reading costs the others nothing, and once it reads again it finds a
// prefix of the messages, then the dropped event, then the end.
func TestStalledSubscriberIsDropped(t *testing.T) {
	const n = 1500
	answered, stalled, err := stalledScenario(t, sse.Serve, n)
	if answered != n {
		t.Fatalf("publish %d of %d not answered: %v", answered, n, err)
	}
	stalled.stall.Remove()
	i, dropped := 0, false
	for ev := range stalled.events.All() {
		if ev.name == "dropped" {
			dropped = true
			continue
		}
		if ev.data != payload(i) {
			t.Fatalf("stalled subscriber, message %d: got %+v, want data %q", i, ev, payload(i))
		}
		i++
	}
	if i == 0 || i >= n || !dropped {
		t.Fatalf("the stalled subscriber read %d of %d messages (dropped event: %v) before the end (%v); want some, not all, and the dropped event",
			i, n, dropped, stalled.events.Err())
	}
	t.Logf("the stalled subscriber got %d of %d messages, then the dropped event and the end (%v)", i, n, stalled.events.Err())
}

// TestBrokenFreezes: the same scenario freezes ServeBroken, which proves
// that it drives the stalled stream's buffers full.
func TestBrokenFreezes(t *testing.T) {
	const n = 1500
	answered, _, err := stalledScenario(t, sse.ServeBroken, n)
	if answered == n {
		t.Fatalf("ServeBroken answered all %d publishes with a stalled subscriber", n)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("publish %d: want no answer within the bound, got %v", answered, err)
	}
	t.Logf("ServeBroken froze at publish %d of %d", answered, n)
}
