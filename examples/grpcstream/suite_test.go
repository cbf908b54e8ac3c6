package grpcstream_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/grpcstream"
	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/properties"
)

// opts are the protocol (protocol_test.go) and what Serve declares it does
// with a subscriber that stops reading: it queues at most QueueLen
// messages of at most MaxMessage bytes for its stream, then drops the
// stream (Drop); gRPC itself holds up to the stream's 64 KiB write quota
// and 64 KiB flow-control window more. (Its keepalive also closes a
// connection that has read nothing for KeepaliveTime plus
// KeepaliveTimeout; declaring that as Evict holds too, but the suite then
// waits out the 5 s in every check of bounded.)
var opts = []properties.Option{
	properties.WithProtocol(protocol),
	properties.SlowConsumers(properties.Drop(grpcstream.QueueLen * grpcstream.MaxMessage)),
	properties.HeapPerStalledClient(128 << 10),
}

// TestFixedPasses: Serve passes the suite.
func TestFixedPasses(t *testing.T) {
	exampletest.Passes(t, exampletest.InProcess(grpcstream.Serve), opts...)
}

// TestBrokenFails: the suite catches ServeBroken, on progress or delivery,
// in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.InProcess(grpcstream.ServeBroken), []string{"progress", "delivery"}, opts...)
}
