package mutants

import (
	"fmt"
	"testing"

	"github.com/stallproof/stallproof/wire"
)

// TestStaleMailboxGoesBackwards: with clients voting at once, some client
// receives a pushed tally older than one it received before.
func TestStaleMailboxGoesBackwards(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("stale-mailbox")
	untilSeen(t, start(t, m), func(vs []*voter) (string, bool) {
		for i, v := range vs {
			_, tallys := v.results()
			var last uint64
			for _, line := range tallys {
				msg, err := wire.ParseMsg(line, DefaultOptions)
				if err != nil {
					continue
				}
				if msg.Seq < last {
					return fmt.Sprintf("voter %d got TALLY %d after TALLY %d", i, msg.Seq, last), true
				}
				last = msg.Seq
			}
		}
		return "", false
	})
}
