package pyserver_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
)

// TestFixedPasses: chat.py passes the suite.
func TestFixedPasses(t *testing.T) {
	exampletest.Passes(t, exampletest.Chat(t, "python3", "chat.py"))
}

// TestBrokenFails: the suite catches chat.py --broken, on progress or
// delivery, in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.Chat(t, "python3", "chat.py", "--broken"), []string{"progress", "delivery"})
}
