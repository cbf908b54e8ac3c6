package grpcstream

import (
	"context"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// ServeBroken runs the broker written the common wrong way: Publish calls
// Send on every subscriber's stream while it holds the lock that guards the
// set of streams. While every subscriber reads, it works and passes the
// race detector. Once one subscriber stops reading and its flow-control
// window closes, Send blocks with the lock held, and every Publish and every
// new Subscribe after that waits until that subscriber reads again or goes
// away. It is here to be caught; use [Serve].
func ServeBroken(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, &locked{streams: map[grpc.ServerStream]struct{}{}})
}

type locked struct {
	mu      sync.Mutex
	streams map[grpc.ServerStream]struct{}
	seq     uint64
}

func (b *locked) subscribe(stream grpc.ServerStream) error {
	if err := stream.RecvMsg(new(wrapperspb.StringValue)); err != nil {
		return err
	}
	b.mu.Lock()
	b.streams[stream] = struct{}{}
	err := stream.SendHeader(metadata.Pairs("subscribed", "1"))
	b.mu.Unlock()
	if err == nil {
		<-stream.Context().Done() // the publishers send meanwhile
		err = status.FromContextError(stream.Context().Err()).Err()
	}
	b.mu.Lock()
	delete(b.streams, stream)
	b.mu.Unlock()
	return err
}

func (b *locked) publish(_ context.Context, msg *wrapperspb.StringValue) (*wrapperspb.UInt64Value, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	for s := range b.streams {
		s.SendMsg(msg) // under the lock: the bug
	}
	return wrapperspb.UInt64(b.seq), nil
}
