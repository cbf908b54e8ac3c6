package mutants

import (
	"strings"
	"testing"

	"github.com/stallproof/stallproof/wire"
)

// TestUnboundedLineBuffers: a 1 MiB line is read whole and answered, where
// a correct server refuses it after 256 bytes and closes (TestLineTooLong).
func TestUnboundedLineBuffers(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("unbounded-line")
	r := start(t, m)
	c := dial(t, r.addr)
	c.send(strings.Repeat("a", 1<<20) + "\n")
	if got := c.expect(wire.MsgErr); !strings.HasPrefix(got, "ERR "+wire.CodeBadRequest) {
		t.Fatalf("got %q, want ERR %s for a line read whole", got, wire.CodeBadRequest)
	}
	c.send("VOTE red\n")
	c.expect(wire.MsgOK)
}
