package mutants

import (
	"runtime"

	"github.com/stallproof/stallproof/wire"
)

// staleMailbox keeps the lock short and each client's memory O(1): the vote
// is counted and its tally formatted under the lock, then handed to every
// client's one-slot mailbox after unlocking.
//
// Bug: the mailbox has no version guard. When two votes' hand-offs
// interleave, the older tally replaces the newer one, so a client's pushed
// seqs go backwards, or its last tally stays stale. There is no data race
// (every field is guarded), so only the consistency property sees it. The
// runtime.Gosched between unlocking and handing off stands for anything a
// goroutine may meet there (preemption, a log call, a page fault): it widens
// a window that is already there so that tests meet it within seconds.
func staleMailbox(s *server) {
	s.newSink = func(c *client) sink { return unguarded{s.startOutbox(c)} }
	s.vote = func(c *client, opt int) {
		s.mu.Lock()
		seq := s.countLocked(opt)
		snapSeq, line := s.snapshot()
		s.mu.Unlock()
		runtime.Gosched()
		for _, other := range s.clientList() {
			other.sink.push(snapSeq, line)
		}
		c.sink.reply(wire.AppendOK(nil, seq))
	}
}

// unguarded is an outbox whose mailbox takes any tally.
type unguarded struct{ *outbox }

func (u unguarded) push(seq uint64, line []byte) {
	u.mu.Lock()
	if !u.ended {
		u.tally, u.tallySeq = line, seq // newer or not: the bug
	}
	u.mu.Unlock()
	signal(u.wake)
}
