package sse_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/examples/sse"
	"github.com/stallproof/stallproof/properties"
)

// policy declares what Serve does with a subscriber that stops reading: it
// drops it once its queue of QueueLen events is full, or once a write has
// blocked for WriteTimeout, and the connection closes.
var policy = []properties.Option{
	properties.SlowConsumers(properties.Evict(sse.WriteTimeout)),
}

// TestSuite runs the whole suite against Serve, which must pass.
func TestSuite(t *testing.T) {
	properties.Run(t, sse.Serve, append(policy, properties.WithProtocol(protocol))...)
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
