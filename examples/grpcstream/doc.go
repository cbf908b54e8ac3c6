// Package grpcstream is a gRPC broker with a server-streaming Subscribe
// and a unary Publish, in two versions: [Serve], written so that a
// subscriber that stops reading slows no one, and [ServeBroken], written
// the common wrong way, which one stalled subscriber freezes.
//
// The service is written by hand, without protoc: a [grpc.ServiceDesc]
// whose messages are the well-known wrapper types of
// google.golang.org/protobuf (wrapperspb), so the default proto codec
// carries them. [Client] is its client stub.
//
//	service stallproof.examples.Broker {
//	  rpc Publish(google.protobuf.StringValue) returns (google.protobuf.UInt64Value);
//	  rpc Subscribe(google.protobuf.StringValue) returns (stream google.protobuf.StringValue);
//	}
//
// Publish sends its message to every subscriber and returns the message's
// sequence number. Subscribe sends the response header (metadata
// "subscribed") once the stream is counted in, then every message
// published after that.
//
// # The bug and the fix
//
// ServeBroken's Publish calls Send on every subscriber's stream while it
// holds the lock that guards the set of streams. A subscriber that stops
// reading, so that its stream's HTTP/2 flow-control window closes (or its
// whole connection stalls), makes Send block, with the lock held, and every
// Publish and every new Subscribe waits behind it.
//
// Serve's Publish only queues the message for each stream, without
// blocking; each Subscribe handler sends its own stream's messages. A
// stream whose queue of [QueueLen] messages is full is dropped: once its
// pending Send returns it ends with codes.ResourceExhausted, "slow
// consumer". A connection whose client reads nothing at all (no HTTP/2
// ping answered) for [KeepaliveTime] plus [KeepaliveTimeout] is closed by
// gRPC's keepalive, the HTTP/2 counterpart of a write deadline.
package grpcstream

import "time"

// Limits of Serve.
const (
	// MaxMessage is the largest message, in bytes of its encoding, that
	// either version accepts from a publisher.
	MaxMessage = 4096
	// QueueLen is how many messages Serve queues for one stream before it
	// drops the stream.
	QueueLen = 256
	// KeepaliveTime is how long a connection may be quiet before Serve
	// pings the client.
	KeepaliveTime = 2 * time.Second
	// KeepaliveTimeout is how long Serve waits for the client to show
	// life after a ping before it closes the connection.
	KeepaliveTimeout = 3 * time.Second
)
