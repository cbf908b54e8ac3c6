package mutants

import (
	"strings"
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
		voter.expect("OK")
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
	ok := healthy.expect("OK")
	seq := strings.TrimPrefix(ok, "OK ")
	if _, err := healthy.expectWithin("TALLY "+seq+" ", 5*time.Second); err != nil {
		t.Fatalf("a client that kept reading did not get TALLY %s: %v", seq, err)
	}
	// The resumed client must not get it: the server forgot it.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		line, err := sub.lineWithin(time.Until(deadline))
		if err != nil {
			break
		}
		if m, err := wire.ParseMsg(line, DefaultOptions); err == nil && m.Kind == wire.MsgTally && strings.HasPrefix(line, "TALLY "+seq+" ") {
			t.Fatalf("the resumed client received %q: the mutant did not forget it", line)
		}
	}
}
