package mutants

import (
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

func TestLockAcrossWriteFreezes(t *testing.T) { demoFreeze(t, "lock-across-write") }

// demoFreeze shows a mutant freezing behind one stalled client: a client
// that never reads plus a flood of votes from another fill the stalled
// client's buffers, after which a healthy client's VOTE is not answered.
// Then the server must still stop when cancelled.
func demoFreeze(t *testing.T, name string) {
	t.Parallel() // mostly waiting
	m, _ := Lookup(name)
	r := start(t, m, smallBuffers)
	dialStalled(t, r.addr)
	const n = 50000 // ~1.5 MB of tallies for the stalled client: far more than its buffers hold
	flood := vote(t, r.addr, n, "red")
	healthy := dial(t, r.addr)
	// Until the stalled client's buffers are full the server answers; keep
	// voting until a VOTE goes unanswered for 3 s.
	for deadline := time.Now().Add(2 * bound); ; {
		healthy.send("VOTE green\n")
		line, err := healthy.expectWithin(wire.MsgOK, 3*time.Second)
		if isTimeout(err) {
			break
		}
		if err != nil {
			t.Fatalf("healthy client: %q, %v", line, err)
		}
		select {
		case <-flood.done:
			t.Fatalf("the flood got all %d OKs: the server never froze", n)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never froze")
		}
	}
	t.Logf("frozen after %d flood votes", flood.oks.Load())
	if err := r.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
