package mutants

import (
	"slices"
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// TestForgottenSubscriberIsStuck shows the bug: a client that stops reading
// long enough for the server's write to block, then reads again, never
// receives the tally of a vote made after it resumed, while a client that
// kept reading does.
func TestForgottenSubscriberIsStuck(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("forgotten-subscriber")
	r := start(t, m, smallBuffers)
	sub := dialStalled(t, r.addr)
	// Votes one at a time, each pushed to the stalled client as its own
	// tally, far more than its buffers hold, until the server's write to
	// it has been blocked for twice slowWrite: its mailbox kept a tally
	// that its writer did not take. (A fixed number of votes was not
	// enough without -race: they took so little time that no write
	// blocked for slowWrite.)
	voter := dial(t, r.addr)
	var blockedSince time.Time
	votes := 0
	for deadline := time.Now().Add(2 * bound); blockedSince.IsZero() || time.Since(blockedSince) < 2*slowWrite; votes++ {
		if time.Now().After(deadline) {
			t.Fatalf("after %d votes, the server's writes to the stalled client do not block", votes)
		}
		voter.send("VOTE red\n")
		voter.expect(wire.MsgOK)
		switch {
		case !untaken(r, sub):
			blockedSince = time.Time{}
		case blockedSince.IsZero():
			blockedSince = time.Now()
		}
	}
	t.Logf("after %d votes, the server's write to the stalled client had been blocked for %v", votes, 2*slowWrite)
	// Resume: read everything that was waiting (a read that times out after
	// a second means the buffers are empty).
	for {
		if _, err := sub.lineWithin(time.Second); err != nil {
			if !isTimeout(err) {
				t.Fatalf("the resumed client's connection: %v", err)
			}
			break
		}
	}
	healthy := dial(t, r.addr)
	healthy.send("VOTE green\n")
	// The OK and the tally of the vote may come in either order.
	var seq uint64
	var tallies []uint64
	for seq == 0 || !slices.ContainsFunc(tallies, func(s uint64) bool { return s >= seq }) {
		line, err := healthy.lineWithin(5 * time.Second)
		if err != nil {
			t.Fatalf("a client that kept reading: OK %d, tallies %v, then %v", seq, tallies, err)
		}
		m, err := wire.ParseMsg(line, DefaultOptions)
		switch {
		case err != nil:
			t.Fatalf("a client that kept reading got %q: %v", line, err)
		case m.Kind == wire.MsgOK:
			seq = m.Seq
		case m.Kind == wire.MsgTally:
			tallies = append(tallies, m.Seq)
		}
	}
	// The resumed client must not get it: the server forgot it.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		line, err := sub.lineWithin(time.Until(deadline))
		if err != nil {
			break
		}
		if m, err := wire.ParseMsg(line, DefaultOptions); err == nil && m.Kind == wire.MsgTally && m.Seq >= seq {
			t.Fatalf("the resumed client received %q: the mutant did not forget it", line)
		}
	}
}

// untaken reports whether the mailbox of sub's connection on r holds a
// tally that its writer has not taken.
func untaken(r *running, sub *testConn) bool {
	for _, c := range r.s.clientList() {
		if f, ok := c.sink.(*forgetful); ok && c.conn.RemoteAddr().String() == sub.conn.LocalAddr().String() {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.tally != nil
		}
	}
	return false
}
