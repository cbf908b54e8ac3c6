package mutants

import (
	"runtime"
	"sync/atomic"

	"github.com/stallproof/stallproof/wire"
)

// tornSnapshot keeps seq and the counts in atomics, updated together under
// the lock, and reads them without it: "atomics can't race".
//
// Bug: a snapshot loads seq, then each count, while other votes go on, so
// its counts can include votes after its seq: a TALLY whose counts don't sum
// to its seq. No data race (every access is atomic): only the consistency
// property sees it. The runtime.Gosched between the loads stands for
// anything that may delay a goroutine there (preemption, a busy machine): it
// widens a window that is already there so that tests meet it within
// seconds even when the machine is loaded.
func tornSnapshot(s *server) {
	var seq atomic.Uint64
	counts := make([]atomic.Uint64, len(s.opts))
	snapshot := func() (uint64, []byte) {
		n := seq.Load()
		runtime.Gosched()
		c := make([]uint64, len(counts))
		for i := range counts {
			c[i] = counts[i].Load() // not the same instant as n: the bug
		}
		return n, wire.AppendTally(nil, n, s.opts, c)
	}
	s.vote = func(c *client, opt int) {
		s.mu.Lock()
		counts[opt].Add(1)
		n := seq.Add(1)
		s.mu.Unlock()
		snapSeq, line := snapshot()
		s.mu.Lock()
		s.pushLocked(snapSeq, line)
		s.mu.Unlock()
		c.sink.reply(wire.AppendOK(nil, n))
	}
	s.query = func(c *client) {
		if !c.sink.room() {
			return
		}
		snapSeq, line := snapshot()
		s.mu.Lock()
		c.sink.answer(snapSeq, line)
		s.mu.Unlock()
	}
}
