package server

import "time"

// Broadcasting tallies.
//
// The vote path does O(1) work to announce a vote: it sets a flag and, if
// the flag was clear, puts a token in a one-slot channel without blocking.
// One broadcaster goroutine takes the token, copies the tally under its
// lock, formats one snapshot shared by every client, and offers it to each
// client's one-slot mailbox. Votes counted while it offers are coalesced
// into its next snapshot, so under load the broadcast rate adapts to what
// the clients can take, and a vote never waits for a broadcast.

// wakeBroadcaster tells the broadcaster that the tally changed. It never
// blocks. It reports whether it woke the broadcaster (rather than finding a
// wake-up already on its way).
func (s *Server) wakeBroadcaster() bool {
	if s.wakePending.Load() || !s.wakePending.CompareAndSwap(false, true) {
		return false // a wake-up is already on its way
	}
	select {
	case s.wake <- struct{}{}:
		return true
	default:
		return false
	}
}

// broadcastLoop runs until stop is closed.
func (s *Server) broadcastLoop(stop <-chan struct{}) {
	counts := make([]uint64, len(s.set.options))
	var last uint64
	var lastAt time.Time
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	defer pace.Stop()
	for {
		select {
		case <-s.wake:
		case <-stop:
			return
		}
		// Pacing: at most one broadcast per interval. The wake-up flag stays
		// set while we wait, so the votes counted meanwhile send no token
		// and join this broadcast.
		if wait := s.set.pace - time.Since(lastAt); s.set.pace > 0 && wait > 0 {
			pace.Reset(wait)
			select {
			case <-pace.C:
			case <-stop:
				return
			}
		}
		// Clear the flag before reading the tally: a vote counted after
		// this point sends a new token, so none is missed.
		s.wakePending.Store(false)
		if s.testNoBroadcast {
			continue
		}
		seq, ok := s.tally.readIfNewer(counts, last)
		if !ok {
			continue
		}
		last, lastAt = seq, time.Now()
		snap := newSnapshot(seq, s.set.options, counts)
		s.stats.broadcasts.Add(1)
		var conflated uint64
		s.regMu.RLock()
		for _, c := range s.conns {
			if c.offer(snap) {
				conflated++
			}
		}
		s.regMu.RUnlock()
		if conflated > 0 {
			s.stats.conflated.Add(conflated)
		}
	}
}
