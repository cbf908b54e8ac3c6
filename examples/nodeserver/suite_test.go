package nodeserver_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
)

// TestFixedPasses: chat.js passes the suite.
func TestFixedPasses(t *testing.T) {
	exampletest.Passes(t, exampletest.Chat(t, "node", "chat.js"))
}

// TestBrokenFails: the suite catches chat.js --broken, on progress or
// delivery, in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.Chat(t, "node", "chat.js", "--broken"), []string{"progress", "delivery"})
}
