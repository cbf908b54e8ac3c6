package mutants

import "testing"

// TestUnboundedQueueGrows: the tallies for a client that never reads pile up
// in the server, one per vote (the correct outbox holds at most one:
// TestStalledPeer).
func TestUnboundedQueueGrows(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("unbounded-queue")
	r := start(t, m, smallBuffers)
	dialStalled(t, r.addr)
	const n = 20000 // ~600 KB of tallies
	if v := vote(t, r.addr, n, "red"); !v.wait(bound) {
		t.Fatalf("a voter got %d of %d OKs", v.oks.Load(), n)
	}
	most := 0
	for _, c := range r.s.clientList() {
		q, _ := queued(c.sink)
		most = max(most, q)
	}
	if most < 256<<10 {
		t.Fatalf("at most %d bytes queued for a client, want the tallies of most of %d votes", most, n)
	}
	t.Logf("%d bytes queued for the stalled client after %d votes", most, n)
}
