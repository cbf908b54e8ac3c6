package grpcstream_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/examples/grpcstream"
	"github.com/stallproof/stallproof/properties"
)

// policy declares what Serve does with a subscriber whose connection
// stops reading: keepalive closes it within KeepaliveTime plus
// KeepaliveTimeout of its last sign of life (and its stream is dropped,
// sooner, once its queue of QueueLen messages is full).
var policy = []properties.Option{
	properties.SlowConsumers(properties.Evict(grpcstream.KeepaliveTime + grpcstream.KeepaliveTimeout)),
}

// TestSuite runs the whole suite against Serve, which must pass.
func TestSuite(t *testing.T) {
	properties.Run(t, grpcstream.Serve, append(policy, properties.WithProtocol(protocol))...)
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
