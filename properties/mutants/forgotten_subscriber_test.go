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
	// tally: ~600 KB of tallies, far more than its buffers hold, so the
	// server's write to it blocks for most of the loop.
	voter := dial(t, r.addr)
	for range 20000 {
		voter.send("VOTE red\n")
		voter.expect(wire.MsgOK)
	}
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
