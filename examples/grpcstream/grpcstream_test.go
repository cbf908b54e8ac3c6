package grpcstream_test

import (
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stallproof/stallproof/examples/grpcstream"
	"github.com/stallproof/stallproof/examples/internal/servetest"
	"github.com/stallproof/stallproof/faultnet"
)

var servers = []struct {
	name  string
	serve servetest.ServeFunc
}{
	{"Serve", grpcstream.Serve},
	{"ServeBroken", grpcstream.ServeBroken},
}

// TestPublishSubscribe checks that both versions send every message to
// every subscriber, in order, while every subscriber reads.
func TestPublishSubscribe(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			srv := servetest.Start(t, s.serve, 64<<10)
			a, b := subscribe(t, connect(t, srv), false), subscribe(t, connect(t, srv), false)
			pub := connect(t, srv)
			for i := 1; i <= 3; i++ {
				seq, err := publish(pub, fmt.Sprint("hello ", i))
				if err != nil || seq != uint64(i) {
					t.Fatalf("publish %d: seq %d, %v", i, seq, err)
				}
			}
			for _, sub := range []*subscriber{a, b} {
				for i := 1; i <= 3; i++ {
					if m, err := sub.next(); err != nil || m != fmt.Sprint("hello ", i) {
						t.Fatalf("message %d: %q, %v", i, m, err)
					}
				}
			}
		})
	}
}

// How the stalled subscriber stops reading.
type stall int

const (
	connStall   stall = iota // its whole connection stops reading (faultnet)
	streamStall              // the application stops calling Recv: the stream's window closes
)

func (s stall) String() string { return [...]string{"connection", "stream"}[s] }

// stalledScenario subscribes one stream that stops reading and one that
// reads everything, and publishes n messages of about 1 KB, far more than
// the stalled stream's window, buffers and queue hold. It returns how many
// publishes were answered within the bound before the first that was not
// (n if all were) and that one's error.
func stalledScenario(t *testing.T, serve servetest.ServeFunc, how stall, n int) (answered int, stalled *subscriber, err error) {
	srv := servetest.Start(t, serve, 4<<10)
	var opts []grpc.DialOption
	if how == streamStall {
		// Fixed windows: no BDP estimation growing the stalled stream's.
		opts = append(opts, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	}
	sc := connect(t, srv, opts...)
	stalled = subscribe(t, sc, how == streamStall)
	if how == connStall {
		stall := sc.conn().Inject(faultnet.StallReads())
		stalled.resume = stall.Remove
	}
	healthy := subscribe(t, connect(t, srv), false)
	pub := connect(t, srv)

	got := make(chan error, 1)
	go func() { // the healthy subscriber reads everything, in order
		for i := range n {
			m, err := healthy.next()
			if err != nil {
				got <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			if m != payload(i) {
				got <- fmt.Errorf("message %d: got %.20q, want %.20q", i, m, payload(i))
				return
			}
		}
		got <- nil
	}()
	for answered = 0; answered < n; answered++ {
		if _, err := publish(pub, payload(answered)); err != nil {
			healthy.cancel() // ends the reader
			<-got
			return answered, stalled, err
		}
	}
	if err := <-got; err != nil {
		t.Errorf("healthy subscriber: %v", err)
	}
	return n, stalled, nil
}

// TestStalledStreamIsDropped: with Serve, a subscriber that stops reading
// costs the others nothing, and once it reads again it finds a prefix of
// the messages, then the end: ResourceExhausted when the stream was
// dropped, Unavailable when keepalive closed a connection that read nothing
// for long.
func TestStalledStreamIsDropped(t *testing.T) {
	for _, how := range []stall{connStall, streamStall} {
		t.Run(how.String(), func(t *testing.T) {
			const n = 1000
			answered, stalled, err := stalledScenario(t, grpcstream.Serve, how, n)
			if answered != n {
				t.Fatalf("publish %d of %d not answered: %v", answered, n, err)
			}
			stalled.resume()
			i := 0
			for m := range stalled.msgs {
				if m != payload(i) {
					t.Fatalf("stalled subscriber, message %d: got %.20q, want %.20q", i, m, payload(i))
				}
				i++
			}
			if i >= n {
				t.Fatalf("the stalled subscriber read all %d messages", n)
			}
			if c := status.Code(stalled.err); c != codes.ResourceExhausted && c != codes.Unavailable {
				t.Fatalf("the stalled stream ended with %v; want ResourceExhausted or Unavailable", stalled.err)
			}
			t.Logf("the stalled subscriber got %d of %d messages, then %v", i, n, stalled.err)
		})
	}
}

// TestBrokenFreezes: the same scenario freezes ServeBroken, which proves
// that it closes the stalled stream's window.
func TestBrokenFreezes(t *testing.T) {
	for _, how := range []stall{connStall, streamStall} {
		t.Run(how.String(), func(t *testing.T) {
			const n = 1000
			answered, _, err := stalledScenario(t, grpcstream.ServeBroken, how, n)
			if answered == n {
				t.Fatalf("ServeBroken answered all %d publishes with a stalled subscriber", n)
			}
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("publish %d: want no answer within the bound, got %v", answered, err)
			}
			t.Logf("ServeBroken froze at publish %d of %d", answered, n)
		})
	}
}
