package pubsub_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/examples/pubsub"
	"github.com/stallproof/stallproof/properties"
)

// protocol describes the pub/sub line protocol to the suite, on the wire.
// Publishers are not greeted and publish to "news"; subscribers send
// SUB news (their greeting is the OK) and then only listen.
var protocol = properties.Protocol{
	Name: "pubsub",
	Roles: []properties.Role{
		{
			Name:       "publisher",
			Request:    func(id, n int) []byte { return fmt.Appendf(nil, "PUB news c%d-%d\n", id, n) },
			Publishes:  true,
			NoGreeting: true,
		},
		{
			Name:       "subscriber",
			Hello:      func(int) []byte { return []byte("SUB news\n") },
			Subscribes: true,
		},
	},
	Greeted: func(_ string, _ int, msg []byte) bool { return string(msg) == "OK" }, // the subscriber's

	Classify: func(_ string, msg []byte) properties.Class {
		switch s := string(msg); {
		case strings.HasPrefix(s, "MSG "):
			return properties.Push
		case strings.HasPrefix(s, "ERR "):
			return properties.ErrorReply
		}
		return properties.Reply // OK
	},
}

// opts are the protocol and what Serve declares it does with a subscriber
// that stops reading: it holds at most MaxPending bytes for it, then
// disconnects it (Drop: a close tells the subscriber it was dropped), and
// meanwhile the write in progress holds up to MaxPending bytes more.
// (Serve also disconnects a client whose write has blocked for
// WriteTimeout; declaring that as Evict(WriteTimeout) holds too, but the
// suite then waits out the 5 s in every check of bounded.)
var opts = []properties.Option{
	properties.WithProtocol(protocol),
	properties.SlowConsumers(properties.Drop(pubsub.MaxPending)),
	properties.HeapPerStalledClient(pubsub.MaxPending),
}

// TestFixedPasses: Serve passes the suite.
func TestFixedPasses(t *testing.T) {
	exampletest.Passes(t, exampletest.InProcess(pubsub.Serve), opts...)
}

// TestBrokenFails: the suite catches ServeBroken, on progress or delivery,
// in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.InProcess(pubsub.ServeBroken), []string{"progress", "delivery"}, opts...)
}
