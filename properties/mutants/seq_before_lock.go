package mutants

import (
	"sync/atomic"

	"github.com/stallproof/stallproof/wire"
)

// seqBeforeLock hands out seqs from an atomic counter, taken before the vote
// is counted under the lock, "so the lock is held for less".
//
// Bug: two votes can take their seqs in one order and be counted in the
// other. The tally's seq (the number of votes counted) then disagrees with
// the votes' own seqs: TALLY k may count vote k+1 and not vote k, so it does
// not count exactly the votes with seq <= k. OK seqs stay unique and every
// tally still sums to its seq, and there is no data race: only the
// consistency property, matching acknowledged seqs to tallies, sees it.
func seqBeforeLock(s *server) {
	var next atomic.Uint64
	s.vote = func(c *client, opt int) {
		seq := next.Add(1) // outside the lock: the bug
		s.mu.Lock()
		s.countLocked(opt)
		s.pushLocked(s.snapshot())
		s.mu.Unlock()
		c.sink.reply(wire.AppendOK(nil, seq))
	}
}
