package grpcstream

import (
	"context"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Serve runs the broker on ln until ctx ends, then closes every connection
// and returns once every handler has returned.
func Serve(ctx context.Context, ln net.Listener) error {
	b := &queued{streams: map[*queue]struct{}{}}
	return serve(ctx, ln, b, grpc.KeepaliveParams(keepalive.ServerParameters{
		Time:    KeepaliveTime,
		Timeout: KeepaliveTimeout,
	}))
}

type queued struct {
	mu      sync.Mutex
	streams map[*queue]struct{}
	seq     uint64
}

// queue is one Subscribe stream's messages, sent by its own handler.
type queue struct {
	msgs    chan *wrapperspb.StringValue
	dropped chan struct{} // closed when the broker gives up on the stream
}

var errSlowConsumer = status.Error(codes.ResourceExhausted, "slow consumer: dropped")

func (b *queued) subscribe(stream grpc.ServerStream) error {
	if err := stream.RecvMsg(new(wrapperspb.StringValue)); err != nil {
		return err
	}
	q := &queue{msgs: make(chan *wrapperspb.StringValue, QueueLen), dropped: make(chan struct{})}
	b.mu.Lock()
	b.streams[q] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.streams, q)
		b.mu.Unlock()
	}()
	if err := stream.SendHeader(metadata.Pairs("subscribed", "1")); err != nil {
		return err
	}
	ctx := stream.Context()
	for {
		select {
		case m := <-q.msgs:
			if err := stream.SendMsg(m); err != nil {
				return err
			}
		case <-q.dropped:
			return errSlowConsumer
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func (b *queued) publish(_ context.Context, msg *wrapperspb.StringValue) (*wrapperspb.UInt64Value, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	for q := range b.streams {
		select {
		case q.msgs <- msg: // never blocks
		default: // a slow consumer: drop it
			delete(b.streams, q)
			close(q.dropped)
		}
	}
	return wrapperspb.UInt64(b.seq), nil
}
