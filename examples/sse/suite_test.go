package sse_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/examples/sse"
	"github.com/stallproof/stallproof/properties"
)

// policy declares what Serve does with a subscriber that stops reading:
// it queues at most QueueLen events of at most MaxMessage bytes (and an
// event's framing) for it, then drops it and closes the connection (Drop).
// (It also drops a subscriber whose write has blocked for WriteTimeout;
// declaring that as Evict(WriteTimeout) holds too, but the suite then
// waits out the 5 s in every check of bounded.)
var policy = []properties.Option{
	properties.SlowConsumers(properties.Drop(sse.QueueLen * (sse.MaxMessage + 64))),
}

// TestSuite runs the whole suite against Serve, which must pass: 5
// checks per property in CI's budget, since each request of
// bounded's heap measurement is a round trip through the client library
// (-rapid.checks, or make soak, runs more).
func TestSuite(t *testing.T) {
	properties.Run(t, sse.Serve, append(policy, properties.WithProtocol(protocol), properties.Checks(5))...)
}

// TestSuiteBrokenChild runs the suite against ServeBroken; it runs only
// as a child of TestSuiteCatchesBroken, since it must fail.
func TestSuiteBrokenChild(t *testing.T) {
	suitetest.SkipUnlessChild(t)
	properties.Run(t, sse.ServeBroken, append(policy, properties.WithProtocol(protocol))...)
}

// TestSuiteCatchesBroken: the suite must catch ServeBroken, on progress or
// delivery.
func TestSuiteCatchesBroken(t *testing.T) {
	suitetest.Caught(t, "TestSuiteBrokenChild", "progress", "delivery")
}
