// Package ledger counts acknowledged votes by seq, for the check of
// protocol v1's tallies. Imported by package properties only; imports
// nothing.
package ledger

// A Ledger holds the acknowledged votes by seq, so that the check of every
// tally (how many acknowledged votes for each option have seq ≤ k?) costs
// O(options · log votes), not a scan. It is a Fenwick tree per option, plus
// one for all options, grown by doubling.
type Ledger struct {
	nopt  int
	trees [][]int32 // trees[nopt] counts every option
	seqs  map[uint64]int
}

// New returns an empty ledger of nopt options.
func New(nopt int) *Ledger {
	return &Ledger{nopt: nopt, trees: make([][]int32, nopt+1), seqs: map[uint64]int{}}
}

// Add records that seq was acknowledged for option opt; false if that seq
// was recorded before (for which option is returned).
func (l *Ledger) Add(seq uint64, opt int) (prev int, ok bool) {
	if p, dup := l.seqs[seq]; dup {
		return p, false
	}
	l.seqs[seq] = opt
	if int(seq) >= len(l.trees[0]) {
		l.grow(int(seq) + 1)
	}
	for _, t := range [][]int32{l.trees[opt], l.trees[l.nopt]} {
		for i := int(seq); i < len(t); i += i & -i {
			t[i]++
		}
	}
	return 0, true
}

func (l *Ledger) grow(n int) {
	size := max(1024, len(l.trees[0]))
	for size < n {
		size *= 2
	}
	for j := range l.trees {
		old := l.trees[j]
		t := make([]int32, size)
		// Rebuild from point values: recover them from the old tree.
		for i := 1; i < len(old); i++ {
			v := prefix(old, i) - prefix(old, i-1)
			for k := i; k < size; k += k & -k {
				t[k] += v
			}
		}
		l.trees[j] = t
	}
}

func prefix(t []int32, i int) int32 {
	var s int32
	for i = min(i, len(t)-1); i > 0; i -= i & -i {
		s += t[i]
	}
	return s
}

// UpTo returns how many acknowledged votes for opt have seq ≤ k.
func (l *Ledger) UpTo(opt int, k uint64) int {
	if len(l.trees[opt]) == 0 {
		return 0
	}
	return int(prefix(l.trees[opt], int(min(k, uint64(len(l.trees[opt])-1)))))
}

// AllUpTo returns how many acknowledged votes have seq ≤ k.
func (l *Ledger) AllUpTo(k uint64) int { return l.UpTo(l.nopt, k) }

// PerOption returns the number of acknowledged votes for each option.
func (l *Ledger) PerOption() []int {
	out := make([]int, l.nopt)
	for _, o := range l.seqs {
		out[o]++
	}
	return out
}
