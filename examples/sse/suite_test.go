package sse_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/examples/sse"
	"github.com/stallproof/stallproof/properties"
)

// opts are the protocol (protocol_test.go) and what Serve declares it does
// with a subscriber that stops reading: it queues at most QueueLen events
// of at most MaxMessage bytes (and an event's framing) for it, then drops
// it and closes the connection (Drop). (It also drops a subscriber whose
// write has blocked for WriteTimeout; declaring that as
// Evict(WriteTimeout) holds too, but the suite then waits out the 5 s in
// every check of bounded.)
var opts = []properties.Option{
	properties.WithProtocol(protocol),
	properties.SlowConsumers(properties.Drop(sse.QueueLen * (sse.MaxMessage + 64))),
}

// TestFixedPasses: Serve passes the suite.
func TestFixedPasses(t *testing.T) {
	exampletest.Passes(t, exampletest.InProcess(sse.Serve), opts...)
}

// TestBrokenFails: the suite catches ServeBroken, on progress or delivery,
// in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.InProcess(sse.ServeBroken), []string{"progress", "delivery"}, opts...)
}
