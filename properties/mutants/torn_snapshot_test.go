package mutants

import (
	"testing"

	"github.com/stallproof/stallproof/wire"
)

// TestTornSnapshotTears: with clients voting at once, some pushed tally's
// counts do not sum to its seq.
func TestTornSnapshotTears(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("torn-snapshot")
	untilSeen(t, start(t, m), func(vs []*voter) (string, bool) {
		for _, v := range vs {
			_, tallys := v.results()
			for _, line := range tallys {
				if _, err := wire.ParseMsg(line, DefaultOptions); err != nil {
					return err.Error(), true
				}
			}
		}
		return "", false
	})
}
