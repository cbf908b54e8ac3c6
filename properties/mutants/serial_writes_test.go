package mutants

import (
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// TestSerialWritesSlowsEveryone: once a stalled client's writer blocks, a
// healthy client's votes wait for the shared write lock, on average about
// half the write deadline each (microseconds without the stalled client).
func TestSerialWritesSlowsEveryone(t *testing.T) {
	t.Parallel() // mostly waiting
	m, _ := Lookup("serial-writes")
	r := start(t, m, smallBuffers)
	healthy := dial(t, r.addr)
	meanLatency := func() time.Duration {
		const n = 20
		begin := time.Now()
		for range n {
			healthy.send("VOTE green\n")
			healthy.expect(wire.MsgOK)
		}
		return time.Since(begin) / n
	}
	before := meanLatency()
	stall(t, r.addr)
	for deadline := time.Now().Add(bound); ; {
		after := meanLatency()
		if after >= serialWriteTimeout/4 {
			t.Logf("mean VOTE latency %v alone, %v with a stalled peer", before, after)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mean VOTE latency %v with a stalled peer, want at least %v", after, serialWriteTimeout/4)
		}
	}
}
