package ledger

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The ledger agrees with a plain count over the votes, across growth
// (seqs past the first 1024 slots) and in any order of acknowledgement.
func TestLedgerCountsLikeAScan(t *testing.T) {
	const nopt, votes = 3, 5000
	r := rand.New(rand.NewPCG(1, 2))
	seqs := r.Perm(votes)
	opts := make([]int, votes+1)
	l := New(nopt)
	for _, s := range seqs {
		seq := uint64(s + 1)
		opts[seq] = r.IntN(nopt)
		if _, ok := l.Add(seq, opts[seq]); !ok {
			t.Fatalf("seq %d refused the first time", seq)
		}
	}
	for _, k := range []uint64{0, 1, 17, 1023, 1024, 1025, 4096, votes, votes + 10} {
		all := 0
		per := make([]int, nopt)
		for seq := uint64(1); seq <= min(k, votes); seq++ {
			per[opts[seq]]++
			all++
		}
		for o := range nopt {
			if got := l.UpTo(o, k); got != per[o] {
				t.Errorf("UpTo(%d, %d) = %d, want %d", o, k, got, per[o])
			}
		}
		if got := l.AllUpTo(k); got != all {
			t.Errorf("AllUpTo(%d) = %d, want %d", k, got, all)
		}
	}
	want := make([]int, nopt)
	for _, o := range opts[1:] {
		want[o]++
	}
	if got := l.PerOption(); !slices.Equal(got, want) {
		t.Errorf("PerOption() = %v, want %v", got, want)
	}
}

func TestLedgerRefusesASeqTwice(t *testing.T) {
	l := New(2)
	l.Add(7, 1)
	if prev, ok := l.Add(7, 0); ok || prev != 1 {
		t.Fatalf("Add(7, 0) after Add(7, 1) = %d, %v; want 1, false", prev, ok)
	}
	if got := l.AllUpTo(7); got != 1 {
		t.Fatalf("AllUpTo(7) = %d after a refused duplicate, want 1", got)
	}
}
