package mutants

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stallproof/stallproof/wire"
)

// TestSeqBeforeLockMiscounts: with one client per option voting at once,
// some tally k does not count exactly the votes whose OK seq is <= k.
func TestSeqBeforeLockMiscounts(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("seq-before-lock")
	untilSeen(t, start(t, m), func(vs []*voter) (string, bool) {
		optionOf := make(map[uint64]int) // OK seq → option index
		var tallys []string
		for i, v := range vs {
			seqs, ts := v.results()
			for _, s := range seqs {
				optionOf[s] = i % len(DefaultOptions)
			}
			tallys = append(tallys, ts...)
		}
		// want[k] is the counts of the votes with seq <= k.
		want := make([][]uint64, len(optionOf)+1)
		want[0] = make([]uint64, len(DefaultOptions))
		for k := 1; k < len(want); k++ {
			want[k] = slices.Clone(want[k-1])
			want[k][optionOf[uint64(k)]]++
		}
		for _, line := range tallys {
			msg, err := wire.ParseMsg(line, DefaultOptions)
			if err != nil || msg.Seq >= uint64(len(want)) {
				continue
			}
			if !slices.Equal(msg.Counts, want[msg.Seq]) {
				return fmt.Sprintf("%q, but the votes with seq <= %d are %v", line, msg.Seq, want[msg.Seq]), true
			}
		}
		return "", false
	})
}
