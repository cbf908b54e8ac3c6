package properties

import (
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
)

// bounded checks that the server's memory does not grow with what it owes
// stalled clients beyond what its declared policy allows, that a client
// flooding requests without reading replies is evicted or pushed back, and,
// for Evict(d), that stalled clients are closed within d.
func bounded(e *env) {
	role := e.subscriber()
	if role == nil {
		role = e.requester()
	}
	var stalledCs []*client
	for range 3 {
		if s := e.connect(stalled, role); s != nil {
			stalledCs = append(stalledCs, s)
		}
	}
	pump := e.connect(healthy, e.requester())
	if pump == nil || e.stuck() {
		return
	}
	pump.quiet.Store(true) // keep the harness's own memory flat while measuring
	heap := harness.HeapAfterGC
	const batch, rounds = 250, 10
	pumpRequests := func() bool {
		for range rounds {
			if e.parallelOne(pump, batch); e.stuck() {
				return false
			}
		}
		return true
	}
	if !pumpRequests() {
		return
	}
	if !e.target.inProcess() {
		e.logf("heap measurement skipped: %v runs in another process", e.target)
		e.afterHeap(stalledCs, pump)
		return
	}
	before := heap()
	if !pumpRequests() {
		return
	}
	after := heap()
	growth := int64(after) - int64(before)
	e.logf("heap %d → %d bytes over %d requests with %d stalled clients", before, after, batch*rounds, len(stalledCs))
	// An unbounded queue holds a message per request per stalled client:
	// 7,500 of them per measurement here, half a megabyte or more.
	per := int64(e.cfg.heapPerStalled)
	if e.cfg.policy.action == drop {
		per += int64(e.cfg.policy.maxQueued)
	}
	if limit := int64(256<<10) + int64(len(stalledCs))*per; growth > limit {
		e.violate(propBounded, "heap grew by %d bytes while %d requests were made with %d stalled clients (limit %d under %v)",
			growth, batch*rounds, len(stalledCs), limit, e.cfg.policy)
		return
	}
	e.afterHeap(stalledCs, pump)
}

// afterHeap is the rest of bounded: the declared eviction, a flooder, an
// endless line.
func (e *env) afterHeap(stalledCs []*client, pump *client) {
	if e.cfg.policy.action == evict {
		e.checkEvicted(stalledCs, pump)
	}
	if e.proto.Connect == nil {
		e.flood()
	}
	if e.v1 != nil {
		e.floodLine()
	}
}

// checkEvicted waits, within the declared time plus the bound, for the
// server to close every stalled client: seen on the server's end of the
// in-memory connection, or, through a splice (RunDial, RunAddr), on the
// splice's end, which logs the server's close of its socket (far-close) or
// is reset with it. Over TCP without a splice the harness cannot see it
// and says so. Meanwhile pump keeps making requests, so the server keeps
// owing the stalled clients pushes: over TCP, a server learns that a
// client stopped reading only once the buffers on the way are full.
func (e *env) checkEvicted(cs []*client, pump *client) {
	deadline := time.Now().Add(e.cfg.policy.within + e.bound)
	for _, c := range cs {
		for _, conn := range c.connections() {
			peer := conn.Peer()
			if peer == nil {
				e.logf("%v: over TCP the server's close of a stalled client cannot be seen; eviction not checked", c)
				return
			}
			for !closedEnd(peer) {
				if time.Now().After(deadline) {
					e.violate(propBounded, "%v stalled and was not evicted within %v (declared %v)", c, e.cfg.policy.within+e.bound, e.cfg.policy)
					return
				}
				if !e.stuck() {
					e.parallelOne(pump, 10)
				}
				e.waitALittle()
			}
		}
	}
}

// pushedBack writes chunk until FloodBytes are sent, and reports whether
// the server stopped reading or closed the connection first.
func (e *env) pushedBack(c *client, chunk []byte) bool {
	sent := 0
	for sent < e.cfg.floodSize {
		// A write that makes no progress for a while means the server has
		// stopped reading: pushed back. (A slow machine can only make this
		// pass, never fail.)
		_ = c.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.conn.Write(chunk)
		sent += n
		if err != nil {
			e.logf("%v stopped after %d bytes: %v", c, sent, err)
			return true
		}
	}
	return false
}

// flood sends FloodBytes of requests without reading a reply. The server
// must stop reading (the write blocks: TCP backpressure) or close the
// connection; a server that reads it all is queueing the replies without
// bound.
func (e *env) flood() {
	f := e.connect(flooder, e.requester())
	if f == nil {
		return
	}
	var chunk []byte
	for len(chunk) < 16<<10 {
		chunk = append(chunk, e.nextRequest(f, 2)...)
	}
	before := f.conn.Stats().Written
	f.outstanding.Add(1 << 40) // its answers are not awaited, whatever arrives
	pushed := e.pushedBack(f, chunk)
	if e.v1 != nil {
		one := e.v1.request(2)
		e.v1.noteSent(one, int(f.conn.Stats().Written-before)/len(one))
	}
	if !pushed {
		e.violate(propBounded, "a client sent %d bytes of requests without reading any reply, and the server neither evicted it nor stopped reading", e.cfg.floodSize)
	}
}

// closedEnd reports whether a connection end was closed or reset.
func closedEnd(c interface{ Events() []faultnet.Event }) bool {
	for _, ev := range c.Events() {
		if ev.Kind == faultnet.EventClose || ev.Kind == faultnet.EventReset || ev.Kind == faultnet.EventFarClose {
			return true
		}
	}
	return false
}

// waitALittle is one step of a bounded poll.
func (e *env) waitALittle() {
	t := time.NewTimer(10 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-e.ctx.Done():
	}
}
