package grpcstream_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stallproof/stallproof/examples/grpcstream"
	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/faultnet"
)

// conn is one gRPC client connection over a faultnet connection.
type conn struct {
	*grpcstream.Client
	mu  sync.Mutex
	raw *faultnet.Conn // the connection dialed last
}

// connect makes a client connection of its own; opts are added to the
// dial options.
func connect(t *testing.T, srv *exampletest.Server, opts ...grpc.DialOption) *conn {
	t.Helper()
	c := new(conn)
	dial := func(ctx context.Context, _ string) (net.Conn, error) {
		raw, err := srv.Dial(ctx)
		if err == nil {
			c.mu.Lock()
			c.raw = raw
			c.mu.Unlock()
		}
		return raw, err
	}
	opts = append([]grpc.DialOption{
		grpc.WithContextDialer(dial),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)
	cc, err := grpc.NewClient("passthrough:///broker", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	c.Client = grpcstream.NewClient(cc)
	return c
}

func (c *conn) conn() *faultnet.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.raw
}

// subscriber reads a subscription into msgs from a goroutine of its own,
// once started.
type subscriber struct {
	msgs *exampletest.Inbox[string]
	// resume makes a stalled subscriber read again.
	resume func()
}

// subscribe opens a subscription on c. Its messages are read at once, or,
// if paused, once resume is called.
func subscribe(t *testing.T, c *conn, paused bool) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	s := &subscriber{resume: sync.OnceFunc(func() { close(start) })}
	s.msgs = exampletest.Receive(func() (string, error) {
		<-start
		return sub.Recv()
	})
	if paused {
		t.Cleanup(func() { s.resume() })
	} else {
		s.resume()
	}
	return s
}

// publish publishes msg within exampletest.Bound.
func publish(c *conn, msg string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), exampletest.Bound)
	defer cancel()
	return c.Publish(ctx, msg)
}

func payload(i int) string { return fmt.Sprintf("%05d-%s", i, strings.Repeat("p", 1000)) }
