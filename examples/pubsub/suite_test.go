package pubsub_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/examples/internal/suitetest"
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

// policy declares what Serve does with a subscriber that stops reading:
// it holds at most MaxPending bytes for it, then disconnects it (Drop: a
// close tells the subscriber it was dropped), and meanwhile the write in
// progress holds up to MaxPending bytes more. (Serve also disconnects a
// client whose write has blocked for WriteTimeout; declaring that as
// Evict(WriteTimeout) holds too, but the suite then waits out the 5 s in
// every check of bounded.)
var policy = []properties.Option{
	properties.SlowConsumers(properties.Drop(pubsub.MaxPending)),
	properties.HeapPerStalledClient(pubsub.MaxPending),
}

// TestSuite runs the whole suite against Serve, which must pass.
func TestSuite(t *testing.T) {
	// 5 checks per property in CI's budget (-rapid.checks, or make soak,
	// runs more).
	properties.Run(t, pubsub.Serve, append(policy, properties.WithProtocol(protocol), properties.Checks(5))...)
}

// TestSuiteBrokenChild runs the suite against ServeBroken; it runs only
// as a child of TestSuiteCatchesBroken, since it must fail.
func TestSuiteBrokenChild(t *testing.T) {
	suitetest.SkipUnlessChild(t)
	properties.Run(t, pubsub.ServeBroken, append(policy, properties.WithProtocol(protocol))...)
}

// TestSuiteCatchesBroken: the suite must catch ServeBroken, on progress or
// delivery.
func TestSuiteCatchesBroken(t *testing.T) {
	suitetest.Caught(t, "TestSuiteBrokenChild", "progress", "delivery")
}
