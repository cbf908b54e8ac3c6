package properties

import (
	"fmt"
	"time"
)

// delivery checks that pushes keep reaching subscribers: while other
// subscribers stall, trickle or flood, every healthy subscriber receives
// its pushes within the bound after each publish; and a stalled subscriber
// that resumes either catches up or is told it was dropped (closed, or an
// ErrorReply message), never left silently stuck.
func delivery(e *env) {
	if e.proto.Delivery == Latest && e.proto.Version == nil {
		e.skipPhase("freshness", "the protocol has no Version: only the arrival of pushes is checked, not that they carry the newest state")
	}
	sub := e.subscriber()
	pub := e.requester()
	for _, k := range []kind{healthy, fragmenter, trickler} {
		if e.connect(k, sub); e.stuck() {
			return
		}
	}
	st := e.connect(stalled, sub)
	p := e.connect(healthy, pub)
	if st == nil || p == nil || e.stuck() {
		return
	}
	e.logf("delivery: %v publishes 10 times, one at a time; every healthy subscriber must receive each", p)
	for i := range 10 {
		if e.request(p, i); e.stuck() {
			return
		}
		if e.checkDelivery(); e.stuck() {
			return
		}
	}
	// The first check of the property (and every shrink attempt) holds
	// the stall long enough for a server to give up on the client; the
	// others only briefly, which a wall clock makes cheap.
	hold, long := briefStall, e.cfg.firstTime(e.prop, "long stall")
	if long {
		hold = stallFor
	}
	e.logf("delivery: %v's buffer fills, and stays full while %v publishes one at a time for %v and %d times or more", st, p, hold, stallPublishes)
	// The kernel's own buffers (up to 4 MiB) are filled once per
	// property, holding the stall longer.
	deep := false
	if e.makesRequests(st.role) && st.onWire() && e.target.kernel() != nil {
		if deep = e.target.bigBuffers() && e.cfg.firstTime(e.prop, "deep push"); deep {
			hold = e.bound / 2
		}
	}
	full := e.blockWrites(p, []*client{st}, deep, long)
	if e.stuck() {
		return
	}
	if long && !full {
		// A server that conflates or paces its pushes may never fill a
		// stalled client's buffers: what it does once its writes block
		// (give up on the client, drop it, hold up others) was not seen.
		e.skipPhase("a stall with the server's writes blocked", fmt.Sprintf("its writes to %v did not block within %v of publishing", st, e.bound))
	}
	// At least stallPublishes publishes, however slow the machine: a
	// server whose one-slot mailbox keeps the oldest pending state shows
	// it only once a second publish found the slot taken.
	for i, start := 0, time.Now(); i < stallPublishes || time.Since(start) < hold; i++ {
		if e.virtual && i >= stallPublishes {
			e.pause(hold / 8) // publishing takes no virtual time
		}
		if e.request(p, 0); e.stuck() {
			return
		}
		if e.checkDelivery(); e.stuck() {
			return
		}
	}
	e.resumed(st, p, long)
	if e.noPushes() {
		e.violate(propDelivery, "no subscriber received any push in the whole check: delivery was not exercised")
	}
}

// stallFor is how long the delivery property's first check keeps a
// subscriber stalled with its buffer full: long enough for a server to
// give up on it (forgotten-subscriber gives up after 100 ms).
const stallFor = 150 * time.Millisecond

// briefStall is how long the other checks keep it stalled.
const briefStall = 20 * time.Millisecond

// stallPublishes is how many publishes, at least, a check makes while a
// subscriber is stalled with its buffer full.
const stallPublishes = 3

// checkDelivery waits, within the bound, until every healthy subscriber
// has received what the publishes so far owe it: with EveryPublish, at
// least one push per publish by another client since it subscribed; with
// Latest, a push after the last such publish was sent.
func (e *env) checkDelivery() {
	for _, c := range e.clientList() {
		if !owed(c) || !c.role.Subscribes || !c.isGreeted() {
			continue
		}
		c.mu.Lock()
		since := c.greetedSeq
		c.mu.Unlock()
		want, last := 0, int64(0)
		e.mu.Lock()
		for _, p := range e.pubs {
			if p.by != c.id && p.sent > since {
				want++
				last = p.sent
			}
		}
		e.mu.Unlock()
		if want == 0 {
			continue
		}
		var ok bool
		if e.proto.Delivery == Latest {
			ok = c.waitFor(func() bool { return c.lastPush > last })
		} else {
			ok = c.waitFor(func() bool { return c.pushes >= want })
		}
		if !ok {
			hint := ""
			if n := c.pushCount(); n > 0 && e.proto.Delivery != Latest {
				hint = "; if the server may conflate (send only the latest state), declare Delivery: Latest"
			}
			e.violate(propDelivery, "%v received %d pushes within %v; %d publishes by other clients since it subscribed owe it %s (last messages %q)%s",
				c, c.pushCount(), e.bound, want, e.proto.Delivery.owes(want), c.lastLines(), hint)
			return
		}
		if e.proto.Version != nil && !c.waitFor(func() bool { return c.versioned && c.version >= e.newest.Load() }) {
			v, _ := c.lastVersion()
			e.violate(propDelivery, "%v's last push carries version %d within %v of the last publish, while version %d was pushed to another client: it was sent stale state (last messages %q)",
				c, v, e.bound, e.newest.Load(), c.lastLines())
			return
		}
	}
}

func (d Delivery) owes(n int) string {
	if d == Latest {
		return "a push after the last one"
	}
	return "at least one push each"
}

// resumed lets a stalled subscriber read again, waits until it has read
// everything that was waiting for it (on the in-memory network, where that
// can be seen), then publishes once more: the subscriber must receive a
// new push, or be told it was dropped (an ErrorReply message, or its
// connection closed), within the bound.
func (e *env) resumed(st, p *client, long bool) {
	e.logf("delivery: %v resumes reading; it must catch up or be told it was dropped", st)
	st.resume()
	drained := func() bool { // over TCP it cannot be seen: do not wait
		for _, conn := range st.connections() {
			if conn.Peer() != nil && conn.Stats().Unread > 0 {
				return false
			}
		}
		return true
	}
	b := e.newBound()
	for !drained() && b.left() > 0 {
		e.waitALittle()
	}
	b.stop()
	st.mu.Lock()
	before, notices, gone := st.pushes, st.notices, st.readErr != nil
	st.mu.Unlock()
	if notices > 0 || gone {
		e.logf("%v was told it was dropped (%d error messages; connection: %v)", st, notices, st.err())
		return
	}
	if e.proto.Version != nil {
		// With versions, catching up means holding the newest state,
		// before anything more is published: a server that kept the
		// oldest pending state for the stalled client sends it that.
		newest := e.newest.Load()
		ok := st.waitFor(func() bool {
			v, has := st.version, st.versioned
			return (has && v >= newest) || st.notices > notices || st.readErr != nil
		})
		if !ok {
			v, _ := st.lastVersion()
			e.violate(propDelivery, "%v stalled, then resumed reading: its last push within %v carries version %d, not the newest, %d, and it was not told it was dropped (last messages %q)",
				st, e.bound, v, newest, st.lastLines())
			return
		}
	}
	// What the next publish must bring. Pushes the server queued before
	// it resumed may still be arriving (over TCP, or from a writer that
	// had more to send once its blocked write returned): with versions,
	// only a push newer than every state pushed so far shows that the
	// server still delivers to st; without them, a push more than st had
	// once it received nothing for settleFor (in the long stall, where a
	// server gives up on a slow client), or else any push more.
	fresh, what := func() bool { return st.pushes > before }, "no push"
	switch {
	case e.proto.Version != nil:
		seen := e.newest.Load()
		fresh = func() bool { return st.versioned && st.version > seen }
		what = fmt.Sprintf("no push newer than version %d", seen)
	case long:
		n, settled := e.settled(st)
		e.logf("%v received %d pushes after it resumed; none for %v since: %v", st, n-before, settleFor, settled)
		what = fmt.Sprintf("no push beyond the %d it received once it resumed", n-before)
		before = n
	}
	if e.request(p, 0); e.stuck() {
		return
	}
	ok := st.waitFor(func() bool { return fresh() || st.notices > notices || st.readErr != nil })
	if !ok {
		e.violate(propDelivery, "%v stalled, then resumed reading: %s, no error and no close within %v of the next publish (last messages %q)",
			st, what, e.bound, st.lastLines())
	}
}

// settled waits, within the bound, until c has received no push for
// settleFor, and returns how many pushes it had then, and whether it
// settled.
func (e *env) settled(c *client) (pushes int, ok bool) {
	b := e.newBound()
	defer b.stop()
	last, since := c.pushCount(), time.Now()
	for b.left() > 0 {
		e.waitALittle()
		if n := c.pushCount(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= settleFor {
			return n, true
		}
	}
	return last, false
}

// settleFor is how long a resumed subscriber must receive nothing before
// the pushes that were waiting for it count as all received.
const settleFor = 200 * time.Millisecond

// blockWrites makes the server's writes to every stalled client in st
// block. A stalled client that makes requests pipelines them: their
// answers fill its buffers at once. A server reached over TCP has its own
// socket send buffer to fill first: the client requests until the server
// stops reading (or the kernel shows its writes blocked), which small
// buffers (shrunk by the suite, or RunExec's) make cheap; with deep, the
// kernel's own buffers (up to 4 MiB) are filled too. Then p publishes
// until every client's buffers are seen full (fillBuffers; if long, for
// as long as the bound allows).
func (e *env) blockWrites(p *client, st []*client, deep, long bool) (full bool) {
	for _, c := range st {
		if !e.makesRequests(c.role) || !c.onWire() {
			continue
		}
		e.pipeline(c, 0, 2000)
		if e.target.kernel() == nil {
			continue
		}
		switch {
		case e.target.smallSocketBuffers():
			if !e.awaitServerBlocked(c) {
				e.pipelineUntilBlocked(c, 64<<20)
			}
		case deep:
			e.pipelineUntilBlocked(c, 64<<20)
		}
	}
	return e.fillBuffers(p, st, long)
}

// noPushes reports whether no client received a push.
func (e *env) noPushes() bool {
	for _, c := range e.clientList() {
		if c.pushCount() > 0 {
			return false
		}
	}
	return true
}

// pipelineFor bounds how long pipelineUntilBlocked sends.
const pipelineFor = 10 * time.Second

// pipelineUntilBlocked makes c send requests, without reading, until a
// write makes no progress for 250 ms (the server has stopped reading from
// c: its writes to c are blocked, or it pushes back) or max bytes are sent.
// With a view of the server's sockets it sends 4 KiB at a time and stops
// as soon as the kernel shows the server's writes to c blocked: every
// request more is a publish fanned out to every subscriber, a flood the
// scenario did not ask for.
func (e *env) pipelineUntilBlocked(c *client, max int) {
	size := 64 << 10
	view := e.target.kernel().exact()
	if view {
		size = 4 << 10
	}
	var chunk []byte
	var one []byte
	for len(chunk) < size {
		if one = e.nextRequest(c, 0); len(one) == 0 {
			return // c's role makes no requests
		}
		chunk = append(chunk, one...)
	}
	sent := 0
	c.wire().notAwaited()
	// A server that keeps reading and keeps draining is not blocked: give
	// up after pipelineFor, not after max bytes in 4 KiB writes.
	until := time.Now().Add(pipelineFor)
	pace := e.pacer(c)
	for sent < max && time.Now().Before(until.Add(pace.waited)) && !(view && e.awaitServerBlocked(c)) {
		pace.wait()
		_ = c.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.conn.Write(chunk)
		c.noteWritten(chunk[:n])
		sent += n
		if e.v1 != nil {
			e.v1.noteSent(one, n/len(one))
		}
		if err != nil {
			break
		}
	}
	e.logf("%v sent %d bytes of requests without reading before the server stopped reading them%v", c, sent, pace)
}

// noteVersion records that a client was pushed version v.
func (e *env) noteVersion(v int64) {
	for {
		old := e.newest.Load()
		if v <= old || e.newest.CompareAndSwap(old, v) {
			return
		}
	}
}
