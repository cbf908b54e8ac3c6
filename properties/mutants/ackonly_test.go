package mutants

import (
	"strings"
	"testing"

	"github.com/stallproof/stallproof/wire"
)

func TestAckOnly(t *testing.T) {
	t.Parallel()
	r := start(t, Mutant{Name: "ack-only", build: ackOnly})
	c := dial(t, r.addr)
	c.send("VOTE red\n", "VOTE blue\n", "TALLY\n", "VOTE purple\n")
	for _, want := range []string{"OK 1", "OK 2", "ERR " + wire.CodeBadRequest, "ERR " + wire.CodeUnknownOption} {
		if got, err := c.lineWithin(bound); err != nil || !strings.HasPrefix(got, want) {
			t.Fatalf("got %q, %v; want %s", got, err, want)
		}
	}
	const n = 1000
	v := vote(t, r.addr, n, "green")
	if !v.wait(bound) {
		t.Fatalf("got %d of %d OKs", v.oks.Load(), n)
	}
	if seqs, tallys := v.results(); seqs[n-1] != n+2 || len(tallys) != 0 {
		t.Fatalf("last OK %d, %d tallies; want OK %d and none", seqs[n-1], len(tallys), n+2)
	}
	// Read raw: the ack-only server sends no TALLY after HELLO, which a
	// checked read refuses.
	c.send("QUIT\n")
	if got, err := c.lineWithin(bound); err != nil || got != "BYE" {
		t.Fatalf("got %q, %v; want BYE", got, err)
	}
	c.expectEOF()
}
