package wshub_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/examples/wshub"
	"github.com/stallproof/stallproof/properties"
)

// opts are the protocol (protocol_test.go) and what Serve declares it does
// with a client that stops reading: it queues at most QueueLen messages of
// at most MaxMessage bytes for it, then drops it and closes the connection
// (Drop). (It also closes a client whose write has blocked for
// WriteTimeout; declaring that as Evict(WriteTimeout) holds too, but the
// suite then waits out the 5 s in every check of bounded.)
var opts = []properties.Option{
	properties.WithProtocol(protocol),
	properties.SlowConsumers(properties.Drop(wshub.QueueLen * wshub.MaxMessage)),
}

// TestFixedPasses: Serve passes the suite.
func TestFixedPasses(t *testing.T) {
	exampletest.Passes(t, exampletest.InProcess(wshub.Serve), opts...)
}

// TestBrokenFails: the suite catches ServeBroken, on progress or delivery,
// in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.InProcess(wshub.ServeBroken), []string{"progress", "delivery"}, opts...)
}
