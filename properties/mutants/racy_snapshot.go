package mutants

import "github.com/stallproof/stallproof/wire"

// racySnapshot counts the vote under the lock but formats the tally to push
// after unlocking, "to keep the lock short".
//
// Bug: the snapshot reads seq and counts without the lock while other votes
// write them: a data race, which the race detector reports as soon as two
// clients vote at once. Without -race it shows only as an occasional torn
// tally. (The counts are a slice, not a map: a Go map read during a write
// may kill the whole process, which no property could report.)
func racySnapshot(s *server) {
	s.vote = func(c *client, opt int) {
		s.mu.Lock()
		seq := s.countLocked(opt)
		s.mu.Unlock()
		snapSeq, line := s.snapshot() // without the lock: the bug
		s.mu.Lock()
		s.pushLocked(snapSeq, line)
		s.mu.Unlock()
		c.sink.reply(wire.AppendOK(nil, seq))
	}
}
