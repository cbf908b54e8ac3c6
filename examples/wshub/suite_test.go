package wshub_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/examples/wshub"
	"github.com/stallproof/stallproof/properties"
)

// policy declares what Serve does with a client that stops reading: it
// queues at most QueueLen messages of at most MaxMessage bytes for it, then
// drops it and closes the connection (Drop). (It also closes a client
// whose write has blocked for WriteTimeout; declaring that as
// Evict(WriteTimeout) holds too, but the suite then waits out the 5 s in
// every check of bounded.)
var policy = []properties.Option{
	properties.SlowConsumers(properties.Drop(wshub.QueueLen * wshub.MaxMessage)),
}

// TestSuite runs the whole suite against Serve, which must pass.
func TestSuite(t *testing.T) {
	// 5 checks per property in CI's budget (-rapid.checks, or make soak,
	// runs more).
	properties.Run(t, wshub.Serve, append(policy, properties.WithProtocol(protocol), properties.Checks(5))...)
}

// TestSuiteBrokenChild runs the suite against ServeBroken; it runs only
// as a child of TestSuiteCatchesBroken, since it must fail.
func TestSuiteBrokenChild(t *testing.T) {
	suitetest.SkipUnlessChild(t)
	properties.Run(t, wshub.ServeBroken, append(policy, properties.WithProtocol(protocol))...)
}

// TestSuiteCatchesBroken: the suite must catch ServeBroken, on progress or
// delivery.
func TestSuiteCatchesBroken(t *testing.T) {
	suitetest.Caught(t, "TestSuiteBrokenChild", "progress", "delivery")
}
