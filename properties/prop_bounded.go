package properties

import (
	"bytes"
	"fmt"
	"sync/atomic"
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
	// A healthy subscriber, quiet too, witnesses what each publish pushes:
	// what every stalled subscriber is owed.
	var witness *client
	if sub := e.subscriber(); sub != nil && e.makesRequests(pump.role) && pump.role.Publishes {
		if witness = e.connect(healthy, sub); e.stuck() {
			return
		}
		if witness != nil {
			witness.quiet.Store(true)
		}
	}
	heap := harness.HeapAfterGC
	pumpRequests := func() bool {
		for range rounds {
			if pump.t.parallel(batch); e.stuck() {
				return false
			}
		}
		return true
	}
	if !pumpRequests() {
		return
	}
	if !e.target.inProcess() {
		e.skipPhase("heap measurement", e.target.elsewhere())
		e.afterHeap(stalledCs, pump)
		return
	}
	var pushes0, bytes0 int64
	if witness != nil {
		pushes0, bytes0 = witness.pushTotals()
	}
	// Every client records nothing while the heap is measured: a client
	// of the scenario that keeps each tally it is pushed (protocol v1
	// keeps 4,096 for its final recheck) grows the harness's own heap by
	// a megabyte over the measurement, which was counted against a server
	// that pushes every tally.
	unquiet := e.quietAll()
	before := heap()
	m := heapMeasure{stalled: len(stalledCs)}
	// Until the stalled clients are owed enough that an unbounded queue
	// would stand out of the measurement's noise: with 8-byte messages,
	// six times as many requests as with 1 KiB ones.
	for i := 0; ; i++ {
		if !pumpRequests() {
			return
		}
		m.publishes += batch * rounds
		if witness != nil && pump.role.Publishes {
			pushes, bytes := witness.pushTotals()
			if pushes > pushes0 {
				m.pushSize = (bytes - bytes0) / (pushes - pushes0)
			}
		}
		if m.enough() || m.pushSize == 0 || i == 5 {
			break
		}
	}
	after := heap()
	m.growth = int64(after) - int64(before)
	m.limits(e.cfg)
	var again int
	after, again = leastHeap(before, after, m.limit, heap, func() { e.settle(witness) })
	if again > 0 {
		e.logf("heap measured again %d times once settled: %d bytes at least", again, after)
	}
	m.growth = int64(after) - int64(before)
	unquiet()
	e.cfg.noteHeap(e.prop, m)
	e.logf("heap %d → %d bytes over %d requests with %d stalled clients: %s", before, after, m.publishes, len(stalledCs), m)
	if m.growth > m.limit {
		e.violate(propBounded, "heap grew by %d bytes while %d requests were made with %d stalled clients (limit %d under %v: %s)",
			m.growth, m.publishes, len(stalledCs), m.limit, e.cfg.policy, m.why())
		return
	}
	e.afterHeap(stalledCs, pump)
}

// leastHeap returns the heap measure that counts, and how many times it
// measured again. What is owed to a stalled client stays on the heap; what
// was in flight when the heap was measured (after) does not: a push on its
// way to the witness, a splice's 32 KiB chunk (RunAddr), a buffer the
// runtime keeps until a second collection. So while the growth since
// before is over limit, the heap is measured again, twice at most, each
// time once settle has let the healthy clients have what they were sent,
// and the smallest measure counts. Under the limit, nothing is measured
// again: a passing check pays nothing.
func leastHeap(before, after uint64, limit int64, heap func() uint64, settle func()) (least uint64, again int) {
	least = after
	for again < 2 && int64(least)-int64(before) > limit {
		settle()
		again++
		least = min(least, heap())
	}
	return least, again
}

// batch and rounds are bounded's requests: rounds of batch requests at a
// time.
const batch, rounds = 250, 10

// quietAll makes every client that records quiet, and returns what makes
// them record again.
func (e *env) quietAll() (unquiet func()) {
	var made []*client
	for _, c := range e.clientList() {
		if c.quiet.CompareAndSwap(false, true) {
			made = append(made, c)
		}
	}
	return func() {
		for _, c := range made {
			c.quiet.Store(false)
		}
	}
}

// afterHeap is the rest of bounded: the declared eviction, a flooder, an
// endless line.
func (e *env) afterHeap(stalledCs []*client, pump *client) {
	switch {
	case e.cfg.policy.action != evict:
		// Once per property, as the scenarios draw floods of their own.
		if e.proto.Connect == nil && e.cfg.firstTime(e.prop, "flood") {
			// The long line goes beside the flood: each waits out a
			// bound of its own (in every shrink attempt too, as both
			// run again there); one after the other they took both.
			var line func() (violation func())
			if e.v1 != nil {
				line = e.floodLineBeside()
			}
			e.flood()
			if line != nil {
				if v := line(); v != nil {
					v() // after the flood's, as when it ran after the flood
				}
			}
			return
		}
	case e.cfg.firstTime(e.prop, "eviction"):
		// A declared deadline is waited out once per property: every check
		// waiting 10 s for a NATS-like server's write deadline would make
		// a Run of minutes. The stalled clients and a flooder wait it out
		// side by side: one after the other, they took twice as long.
		// The stalled clients' verdict comes first, so that the same
		// failure is reported whichever eviction ran out first.
		var f *evictFlood
		if e.proto.Connect == nil {
			f = e.floodUntilEvicted()
			defer f.stop() // should checkEvicted panic
		}
		e.checkEvicted(stalledCs, pump)
		if failed := f.stalledDone(); failed != nil && !e.stuck() {
			failed()
		}
	default:
		e.logf("the declared %v was checked by the first check of %s: this one does not wait for it", e.cfg.policy, e.prop)
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
// and says so. Evict(d) promises a close within d of the server's writes
// blocking, so the time counts from when they were made to block
// (blockWrites): the pushes a server paces, and conflates for a stalled
// client, took more than d plus the bound to fill a spliced client's
// buffers, and a server that evicts after a second failed Evict(3s).
// Meanwhile pump keeps making requests, so the server keeps owing the
// stalled clients pushes.
func (e *env) checkEvicted(cs []*client, pump *client) {
	if e.blockWrites(pump, cs, e.target.bigBuffers(), false); e.stuck() {
		return
	}
	deadline := time.Now().Add(e.cfg.policy.within + e.bound)
	for _, c := range cs {
		for _, conn := range c.connections() {
			if conn.Peer() == nil {
				e.skipPhase("eviction of stalled clients", "over a wrapped TCP connection the server's close of a client that does not read cannot be seen")
				return
			}
			for !closedByServer(conn) {
				if e.stuck() {
					return // the check has failed already
				}
				if time.Now().After(deadline) {
					e.violate(propBounded, "%v stalled and was not evicted within %v (declared %v)", c, e.cfg.policy.within+e.bound, e.cfg.policy)
					return
				}
				if !e.stuck() {
					pump.t.parallel(10)
				}
				e.waitALittle()
			}
		}
	}
}

// closedByServer reports whether the server closed or reset the
// connection whose client end is conn, as its peer end shows.
func closedByServer(conn *faultnet.Conn) bool {
	peer := conn.Peer()
	return peer != nil && closedEnd(peer)
}

// floodUntilEvicted is the flood check under Evict(d): a client sends
// requests and reads nothing; the server may read them and queue the
// replies for a while, but must close the client within d plus the bound,
// as it declared. No byte count is guessed: the flooder sends until it is
// closed, at most maxEvictFlood bytes, then waits for the close.
//
// The flooder connects at once and floods in a goroutine of its own,
// while the caller waits out the stalled clients' eviction; until the
// caller says they are done (stalledDone), it sends floodBytes at most:
// what it publishes is owed to the stalled subscribers too, and a broker
// that never evicts them held 700 MB for a 64 MiB flood. It returns nil
// if there is no flood to make.
func (e *env) floodUntilEvicted() *evictFlood {
	f := e.connect(flooder, e.requester())
	if f == nil || e.stuck() {
		return nil
	}
	chunk, one := e.floodChunk(f)
	if len(chunk) == 0 || !f.onWire() {
		return nil
	}
	f.wire().notAwaited() // whatever arrives
	early, _ := e.floodBytes(len(one))
	ef := &evictFlood{done: make(chan struct{})}
	ef.limit.Store(int64(early))
	go func() {
		defer close(ef.done)
		ef.violation = e.floodOn(f, chunk, one, ef)
	}()
	return ef
}

// evictFlood is a flood under way in floodUntilEvicted.
type evictFlood struct {
	limit     atomic.Int64  // bytes the flooder may send for now
	quit      atomic.Bool   // stop: the check is over
	done      chan struct{} // closed once the flood is over
	violation func()        // reports the flood's violation (nil: none); set before done is closed
}

// stalledDone lifts the flood's limit to maxEvictFlood, waits for the
// flood to end, and returns the function that reports its violation (nil
// if none). It is nil-safe: no flood, no violation.
func (ef *evictFlood) stalledDone() (violation func()) {
	if ef == nil {
		return nil
	}
	ef.limit.Store(maxEvictFlood)
	<-ef.done
	return ef.violation
}

// stop ends the flood, if it still runs, and waits for it.
func (ef *evictFlood) stop() {
	if ef == nil {
		return
	}
	ef.quit.Store(true)
	<-ef.done
}

// floodOn is floodUntilEvicted's flood: f sends chunk until the server
// closes it, the declared time and the bound run out (it returns what
// reports the violation), or the check is stuck or over.
func (e *env) floodOn(f *client, chunk, one []byte, ef *evictFlood) (violation func()) {
	if e.v1 != nil {
		before := f.conn.Stats().Written
		defer func() {
			one := e.v1.request(2)
			e.v1.noteSent(one, int(f.conn.Stats().Written-before)/len(one))
		}()
	}
	start := time.Now()
	deadline := start.Add(e.cfg.policy.within + e.bound)
	sent := 0
	pace := e.pacer(f)
	var held time.Duration // waiting at the limit, for the stalled clients
	defer func() { f.markFlood(one, sent) }()
	for !e.stuck() && !ef.quit.Load() {
		if closedByServer(f.conn) {
			e.logf("%v was closed by the server %v after it began to flood, after %d bytes (declared %v)",
				f, time.Since(start).Round(time.Millisecond), sent, e.cfg.policy)
			return nil
		}
		// Waiting for the suite's own readers does not count, nor waiting
		// at the limit: a server that buffers more replies than the limit
		// before its writes block has the whole declared time once the
		// flooder may send on.
		if time.Now().After(deadline.Add(pace.waited + held)) {
			return func() {
				e.violate(propBounded, "a client sent %d bytes of requests without reading any reply, and the server did not close it within %v (declared %v)",
					sent, e.cfg.policy.within+e.bound, e.cfg.policy)
			}
		}
		if limit := ef.limit.Load(); int64(sent) >= limit {
			t := time.Now()
			e.waitALittle()
			if limit < maxEvictFlood {
				held += time.Since(t)
			}
			continue
		}
		pace.wait()
		_ = f.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := f.conn.Write(chunk)
		f.noteWritten(chunk[:n])
		sent += n
		if err != nil && !isTimeout(err) {
			e.logf("%v: the server ended the connection after %d bytes: %v", f, sent, err)
			return nil
		}
	}
	return nil
}

// maxEvictFlood bounds what a flooder sends under Evict(d) before it only
// waits for the close: the suite loads the machine with no more than
// that, whatever the server reads.
const maxEvictFlood = 64 << 20

// floodChunk returns 16 KiB or more of f's requests, to write at once, and
// the last of them.
func (e *env) floodChunk(f *client) (chunk, one []byte) {
	for len(chunk) < 16<<10 {
		one = e.nextRequest(f, 2)
		if len(one) == 0 {
			return nil, nil // its role makes no requests
		}
		chunk = append(chunk, one...)
	}
	return chunk, one
}

// pushedBack writes chunk until max bytes are sent, and reports whether
// the server stopped reading or closed the connection first.
func (e *env) pushedBack(c *client, chunk []byte, max int) bool {
	sent := 0
	pace := e.pacer(c)
	for sent < max {
		pace.wait()
		// A write that makes no progress for a while means the server has
		// stopped reading: pushed back. (A slow machine can only make this
		// pass, never fail.)
		_ = c.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.conn.Write(chunk)
		c.noteWritten(chunk[:n])
		sent += n
		if err != nil {
			e.logf("%v stopped after %d bytes: %v", c, sent, err)
			return true
		}
	}
	return false
}

// maxFlood bounds what a flooder sends: the suite loads the machine with
// no more than that, whatever the server reads.
const maxFlood = 64 << 20

// floodBytes is how much a flooder sends before the server must have
// pushed back: enough requests that the replies it is owed reach
// FloodBytes, judged by the size of the replies healthy clients received
// (a server that answers a 1 KiB request with "+OK" owes a flooder of 2
// MiB only 8 KB), at most maxFlood. reached is false when maxFlood is too
// little for that.
func (e *env) floodBytes(reqSize int) (n int, reached bool) {
	e.mu.Lock()
	replies, bytes := e.replyCount, e.replyBytes
	e.mu.Unlock()
	n = e.cfg.floodSize
	if replies > 0 && bytes > 0 && reqSize > 0 {
		avg := float64(bytes) / float64(replies)
		n = max(n, int(float64(e.cfg.floodSize)*float64(reqSize)/avg))
	}
	return min(n, maxFlood), n <= maxFlood
}

// flood sends requests without reading a reply until the replies it is
// owed reach FloodBytes. The server must stop reading (the write blocks:
// TCP backpressure) or close the connection; a server that reads it all is
// queueing the replies without bound.
func (e *env) flood() {
	f := e.connect(flooder, e.requester())
	if f == nil {
		return
	}
	chunk, one := e.floodChunk(f)
	if len(chunk) == 0 || !f.onWire() {
		return
	}
	before := f.conn.Stats().Written
	f.wire().notAwaited() // whatever arrives
	n, reached := e.floodBytes(len(one))
	pushed := e.pushedBack(f, chunk, n)
	f.markFlood(one, int(f.conn.Stats().Written-before))
	if e.v1 != nil {
		one := e.v1.request(2)
		e.v1.noteSent(one, int(f.conn.Stats().Written-before)/len(one))
	}
	switch {
	case pushed:
	case !reached:
		e.skipPhase("flood", fmt.Sprintf("its replies are so much smaller than its requests that %d bytes of requests owe it less than FloodBytes (%d) of replies", n, e.cfg.floodSize))
	default:
		e.violate(propBounded, "a client sent %d bytes of requests, owing it %d bytes of replies or more, without reading any, and the server neither evicted it nor stopped reading", n, e.cfg.floodSize)
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

// settle waits until w, a healthy client (nil for none), has received
// every push on its way: until its pushes stop growing over a few polls,
// for a second at most.
func (e *env) settle(w *client) {
	var last int64 = -1
	for still, i := 0, 0; still < 3 && i < 100; i++ {
		e.waitALittle()
		if w == nil {
			still++
			continue
		}
		if n, _ := w.pushTotals(); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
}

// waitALittle is one step of a bounded poll.
func (e *env) waitALittle() { e.pause(10 * time.Millisecond) }

// pause waits for d, or until the check is cancelled.
func (e *env) pause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-e.ctx.Done():
	}
}

// markFlood marks, on c's timeline, n bytes of requests sent without
// reading, one being one of them.
func (c *client) markFlood(one []byte, n int) {
	if len(one) == 0 || n <= 0 {
		return
	}
	first, _, _ := bytes.Cut(one, []byte("\n"))
	c.markN("request", fmt.Appendf(nil, "%d bytes of requests without reading: %s", n, first), max(n/len(one), 2))
}
