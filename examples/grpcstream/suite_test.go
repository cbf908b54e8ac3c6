package grpcstream_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/grpcstream"
	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/properties"
)

// policy declares what Serve does with a subscriber that stops reading:
// it queues at most QueueLen messages of at most MaxMessage bytes for its
// stream, then drops the stream (Drop); gRPC itself holds up to the
// stream's 64 KiB write quota and 64 KiB flow-control window more. (Its
// keepalive also closes a connection that has read nothing for
// KeepaliveTime plus KeepaliveTimeout; declaring that as Evict holds too,
// but the suite then waits out the 5 s in every check of bounded.)
var policy = []properties.Option{
	properties.SlowConsumers(properties.Drop(grpcstream.QueueLen * grpcstream.MaxMessage)),
	properties.HeapPerStalledClient(128 << 10),
}

// TestSuite runs the whole suite against Serve, which must pass: 5
// checks per property in CI's budget, since each request of
// bounded's heap measurement is a round trip through the client library
// (-rapid.checks, or make soak, runs more).
func TestSuite(t *testing.T) {
	properties.Run(t, grpcstream.Serve, append(policy, properties.WithProtocol(protocol), properties.Checks(5))...)
}

// TestSuiteBrokenChild runs the suite against ServeBroken; it runs only
// as a child of TestSuiteCatchesBroken, since it must fail.
func TestSuiteBrokenChild(t *testing.T) {
	suitetest.SkipUnlessChild(t)
	properties.Run(t, grpcstream.ServeBroken, append(policy, properties.WithProtocol(protocol))...)
}

// TestSuiteCatchesBroken: the suite must catch ServeBroken, on progress or
// delivery.
func TestSuiteCatchesBroken(t *testing.T) {
	suitetest.Caught(t, "TestSuiteBrokenChild", "progress", "delivery")
}
