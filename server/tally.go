package server

import (
	"sync"

	"github.com/stallproof/stallproof/wire"
)

// tally is the shared state: one count per option and the seq of the last
// vote. Its lock is held only to count votes or copy the counts: no I/O,
// no allocation, no channel operation, no other lock.
type tally struct {
	mu     sync.Mutex
	seq    uint64
	counts []uint64
}

func newTally(n int) *tally { return &tally{counts: make([]uint64, n)} }

// add counts the votes in idx (option indexes) as one contiguous run of the
// total order and returns the seq of the first of them.
func (t *tally) add(idx []uint8) (first uint64) {
	t.mu.Lock()
	first = t.addLocked(idx)
	t.mu.Unlock()
	return first
}

func (t *tally) addLocked(idx []uint8) (first uint64) {
	first = t.seq + 1
	for _, i := range idx {
		t.counts[i]++
	}
	t.seq += uint64(len(idx))
	return first
}

// read copies the counts into dst (len(dst) == number of options) and
// returns their seq: a snapshot that is never torn.
func (t *tally) read(dst []uint64) (seq uint64) {
	t.mu.Lock()
	copy(dst, t.counts)
	seq = t.seq
	t.mu.Unlock()
	return seq
}

// readIfNewer is read, but copies nothing and returns ok == false when
// the seq is still after.
func (t *tally) readIfNewer(dst []uint64, after uint64) (seq uint64, ok bool) {
	t.mu.Lock()
	seq = t.seq
	if seq > after {
		copy(dst, t.counts)
		ok = true
	}
	t.mu.Unlock()
	return seq, ok
}

// snapshot is an immutable, formatted tally shared by every client it is
// offered to.
type snapshot struct {
	seq  uint64
	line []byte // "TALLY <seq> a=n ...\n"
}

func newSnapshot(seq uint64, opts []string, counts []uint64) *snapshot {
	return &snapshot{seq: seq, line: wire.AppendTally(make([]byte, 0, tallyLineSize(opts)), seq, opts, counts)}
}

// tallyLineSize is an upper bound on the length of a TALLY line.
func tallyLineSize(opts []string) int {
	n := len("TALLY \n") + 20
	for _, o := range opts {
		n += len(o) + 22 // " " + name + "=" + up to 20 digits
	}
	return n
}
