package wshub_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/examples/wshub"
	"github.com/stallproof/stallproof/properties"
)

// policy declares what Serve does with a client that stops reading: it
// drops it once its channel of QueueLen messages is full, or once a write
// has blocked for WriteTimeout, and closes the connection.
var policy = []properties.Option{
	properties.SlowConsumers(properties.Evict(wshub.WriteTimeout)),
}

// TestSuite runs the whole suite against Serve, which must pass.
func TestSuite(t *testing.T) {
	properties.Run(t, wshub.Serve, append(policy, properties.WithProtocol(protocol))...)
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
