package grpcstream_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stallproof/stallproof/examples/grpcstream"
	"github.com/stallproof/stallproof/properties"
)

// protocol describes the broker to the suite with grpc-go's own client and
// the package's stub, over the suite's connections: publishers call Publish
// (a request is answered when the call returns), subscribers hold a
// Subscribe stream open and receive each message on it (a push).
//
// Each message is 1 KiB, the size of a typical event. The size matters to
// a stall: gRPC holds up to a stream's 64 KiB flow-control window, plus as
// much again of write quota, for a subscriber that stopped reading before
// Send blocks. With messages of a few bytes that is thousands of messages,
// more than a check of the suite publishes, so the freeze of ServeBroken
// would show only as heap growth (bounded), not as a stuck publish.
var protocol = properties.Protocol{
	Name: "grpcstream (grpc-go)",
	Roles: []properties.Role{
		{Name: "publisher", Publishes: true},
		{Name: "subscriber", Subscribes: true},
	},
	Connect:            connectGRPC,
	ConcurrentRequests: true, // a gRPC ClientConn may be used from many goroutines
}

// grpcClient is one client: its own ClientConn, and a subscriber's stream.
type grpcClient struct {
	id     int
	cc     *grpc.ClientConn
	stub   *grpcstream.Client
	cancel context.CancelFunc // ends a subscriber's stream
	ended  chan struct{}      // closed when a subscriber's stream ends
}

func connectGRPC(ctx context.Context, dial properties.DialFunc, info properties.ClientInfo, onPush func([]byte)) (properties.Client, error) {
	cc, err := grpc.NewClient("passthrough:///broker",
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dial(ctx, "tcp", addr)
		}),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	c := &grpcClient{id: info.ID, cc: cc, stub: grpcstream.NewClient(cc), cancel: func() {}}
	if info.Role != "subscriber" {
		// Connected: the client's connection exists, for the suite's faults.
		cc.Connect()
		for s := cc.GetState(); s != connectivity.Ready; s = cc.GetState() {
			if !cc.WaitForStateChange(ctx, s) {
				cc.Close()
				return nil, fmt.Errorf("connecting: %w (state %v)", ctx.Err(), s)
			}
		}
		return c, nil
	}
	// The stream outlives Connect's ctx, which bounds only the wait for
	// the subscription.
	sctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	sub, err := c.stub.Subscribe(sctx)
	if !stop() || err != nil {
		cancel()
		cc.Close()
		return nil, fmt.Errorf("subscribing: %w", errors.Join(err, ctx.Err()))
	}
	c.cancel, c.ended = cancel, make(chan struct{})
	go func() {
		defer close(c.ended)
		for {
			msg, err := sub.Recv()
			if err != nil {
				return // ResourceExhausted "slow consumer", say: Done tells the suite
			}
			onPush([]byte(msg))
		}
	}()
	return c, nil
}

// Request publishes message n.
func (c *grpcClient) Request(ctx context.Context, n int) error {
	_, err := c.stub.Publish(ctx, fmt.Sprintf("c%d-%d %s", c.id, n, filler))
	return err
}

// filler pads each message to about 1 KiB.
var filler = strings.Repeat("x", 1000)

// Done is closed when a subscriber's stream has ended (ResourceExhausted
// for a dropped slow consumer, Unavailable for a closed connection); never
// for a publisher. The suite reads it: a dropped subscriber counts as
// told.
func (c *grpcClient) Done() <-chan struct{} { return c.ended }

func (c *grpcClient) Close() error {
	c.cancel()
	err := c.cc.Close()
	if c.ended != nil {
		<-c.ended
	}
	return err
}
