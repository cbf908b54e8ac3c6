package grpcstream

import (
	"context"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The full method names of the service.
const (
	serviceName     = "stallproof.examples.Broker"
	publishMethod   = "/" + serviceName + "/Publish"
	subscribeMethod = "/" + serviceName + "/Subscribe"
)

// broker is what both versions implement.
type broker interface {
	publish(ctx context.Context, msg *wrapperspb.StringValue) (*wrapperspb.UInt64Value, error)
	subscribe(stream grpc.ServerStream) error
}

// serviceDesc is what protoc would generate from the service in the
// package documentation.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*broker)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Publish",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(broker).publish(ctx, req.(*wrapperspb.StringValue))
			}
			if icpt == nil {
				return call(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: publishMethod}, call)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Subscribe",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(broker).subscribe(stream)
		},
	}},
}

// serve runs b on ln until ctx ends, then stops the gRPC server, which
// closes every connection, and returns once every handler has returned.
func serve(ctx context.Context, ln net.Listener, b broker, opts ...grpc.ServerOption) error {
	s := grpc.NewServer(append(opts, grpc.WaitForHandlers(true), grpc.MaxRecvMsgSize(MaxMessage))...)
	s.RegisterService(&serviceDesc, b)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		s.Stop()
		return err
	case <-ctx.Done():
	}
	s.Stop()
	return <-errc
}
