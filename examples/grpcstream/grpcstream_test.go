package grpcstream_test

import (
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stallproof/stallproof/examples/grpcstream"
	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties"
)

// TestPublishSubscribe checks that both versions send every message to
// every subscriber, in order, while every subscriber reads.
func TestPublishSubscribe(t *testing.T) {
	exampletest.Both(t, grpcstream.Serve, grpcstream.ServeBroken, func(t *testing.T, srv *exampletest.Server) {
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
				if m, err := sub.msgs.Next(); err != nil || m != fmt.Sprint("hello ", i) {
					t.Fatalf("message %d: %q, %v", i, m, err)
				}
			}
		}
	})
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
// (n if all were) and that one's error (exampletest.PublishEach).
func stalledScenario(t *testing.T, serve properties.ServeFunc, how stall, n int) (answered int, stalled *subscriber, err error) {
	srv := exampletest.Start(t, serve, 4<<10)
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
	answered, err = exampletest.PublishEach(t, n, func(i int) error {
		_, err := publish(pub, payload(i))
		return err
	}, healthy.msgs.Next, payload)
	return answered, stalled, err
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
			for m := range stalled.msgs.All() {
				if m != payload(i) {
					t.Fatalf("stalled subscriber, message %d: got %.20q, want %.20q", i, m, payload(i))
				}
				i++
			}
			if i >= n {
				t.Fatalf("the stalled subscriber read all %d messages", n)
			}
			if c := status.Code(stalled.msgs.Err()); c != codes.ResourceExhausted && c != codes.Unavailable {
				t.Fatalf("the stalled stream ended with %v; want ResourceExhausted or Unavailable", stalled.msgs.Err())
			}
			t.Logf("the stalled subscriber got %d of %d messages, then %v", i, n, stalled.msgs.Err())
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
