package grpcstream

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Client is the broker's client stub, what protoc would generate.
type Client struct {
	cc grpc.ClientConnInterface
}

// NewClient returns a client that calls the broker over cc.
func NewClient(cc grpc.ClientConnInterface) *Client { return &Client{cc: cc} }

// Publish sends msg to every subscriber and returns its sequence number.
func (c *Client) Publish(ctx context.Context, msg string, opts ...grpc.CallOption) (uint64, error) {
	out := new(wrapperspb.UInt64Value)
	if err := c.cc.Invoke(ctx, publishMethod, wrapperspb.String(msg), out, opts...); err != nil {
		return 0, err
	}
	return out.GetValue(), nil
}

// Subscription is one Subscribe stream.
type Subscription struct {
	stream grpc.ClientStream
}

// Subscribe opens a stream of the messages published from now on, and
// returns once the broker has counted it in. Cancelling ctx ends it.
func (c *Client) Subscribe(ctx context.Context, opts ...grpc.CallOption) (*Subscription, error) {
	desc := &grpc.StreamDesc{StreamName: "Subscribe", ServerStreams: true}
	stream, err := c.cc.NewStream(ctx, desc, subscribeMethod, opts...)
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(wrapperspb.String("")); err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	md, err := stream.Header()
	if err != nil {
		return nil, err
	}
	if len(md.Get("subscribed")) == 0 { // ended without headers: the status says why
		if err := stream.RecvMsg(new(wrapperspb.StringValue)); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("grpcstream: the broker did not confirm the subscription")
	}
	return &Subscription{stream: stream}, nil
}

// Recv returns the next message. Once the stream has ended it returns the
// status the broker ended it with (codes.ResourceExhausted for a dropped
// slow consumer), or io.EOF.
func (s *Subscription) Recv() (string, error) {
	m := new(wrapperspb.StringValue)
	if err := s.stream.RecvMsg(m); err != nil {
		return "", err
	}
	return m.GetValue(), nil
}
