package mutants

import (
	"fmt"
	"strings"
	"testing"
)

// TestHalfCloseDropLosesVotes: a client sends votes, half-closes and reads
// until the server closes: it misses OKs or the latest tally (the others
// send all of them: TestHalfClose). Whether the writer has sent everything
// before the close is up to the scheduler, so it tries a few times.
func TestHalfCloseDropLosesVotes(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("halfclose-drop")
	r := start(t, m)
	const n, tries = 1, 100
	total := 0
	for try := 1; try <= tries; try++ {
		c := dial(t, r.addr)
		c.send(strings.Repeat("VOTE red\n", n))
		if err := c.conn.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		total += n
		oks, last := 0, ""
		for {
			line, err := c.lineWithin(bound)
			if isTimeout(err) {
				t.Fatal("the server neither answered nor closed")
			}
			if err != nil {
				break
			}
			if strings.HasPrefix(line, "OK ") {
				oks++
			} else if strings.HasPrefix(line, "TALLY ") {
				last = line
			}
		}
		if want := fmt.Sprintf("TALLY %d red=%d ", total, total); oks < n || !strings.HasPrefix(last, want) {
			t.Logf("try %d: %d of %d votes answered, last tally %q", try, oks, n, last)
			return
		}
	}
	t.Fatalf("all votes and the latest tally sent before closing, %d times", tries)
}
