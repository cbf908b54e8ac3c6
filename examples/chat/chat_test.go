package chat_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/examples/chat"
	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/properties"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The chat server speaks its own protocol, so the suite reaches it through
// an Adapter: what a request looks like, and which lines answer one.
var adapter = properties.Adapter{
	Greeting: 1, // WELCOME
	RequestLine: func(id, n int) string {
		return "SAY hello from " + string(rune('a'+id%26)) + "\n"
	},
	IsReply: func(line string) bool { return strings.HasPrefix(line, "SENT ") },
}

// TestFixedPasses: the chat server passes the suite, through the Adapter,
// with 10 checks per property.
func TestFixedPasses(t *testing.T) {
	exampletest.Passes(t, exampletest.InProcess(func(ctx context.Context, ln net.Listener) error {
		return chat.New().Serve(ctx, ln)
	}), properties.WithAdapter(adapter), properties.Checks(10))
}
