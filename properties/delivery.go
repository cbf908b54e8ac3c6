package properties

import (
	"time"
)

// delivery checks that pushes keep reaching subscribers: while other
// subscribers stall, trickle or flood, every healthy subscriber receives
// its pushes within the bound after each publish; and a stalled subscriber
// that resumes either catches up or is told it was dropped (closed, or an
// Error message), never left silently stuck.
func delivery(e *env) {
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
	hold := stallFor
	e.logf("delivery: %v's buffer fills, and stays full while %v publishes one at a time for %v or more", st, p, hold)
	if e.makesRequests(st.role) && st.lib == nil {
		e.pipeline(st, 0, 2000) // their answers fill its buffer at once
		if deep := e.target.deepPush() > 0 && e.cfg.firstDeepPush(e.prop); deep || e.target.smallKernelBuffers() {
			// A server in its own process has its own send buffers
			// (target.deepPush) to fill first: once per property, request
			// until it stops reading, and hold the stall longer. In
			// RunExec's namespace they are small: fill them every check.
			e.pipelineUntilBlocked(st, 64<<20)
			if deep {
				hold = e.bound / 2
			}
		}
	}
	if e.fillBuffers(p, []*client{st}); e.stuck() {
		return
	}
	for start := time.Now(); time.Since(start) < hold; {
		if e.request(p, 0); e.stuck() {
			return
		}
		if e.checkDelivery(); e.stuck() {
			return
		}
	}
	e.resumed(st, p)
	if e.noPushes() {
		e.violate(propDelivery, "no subscriber received any push in the whole check: delivery was not exercised")
	}
}

// stallFor is how long the delivery property keeps a subscriber stalled
// with its buffer full: long enough for a server to give up on it.
const stallFor = 150 * time.Millisecond

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
		since := c.greetedAt
		c.mu.Unlock()
		want, last := 0, time.Time{}
		e.mu.Lock()
		for _, p := range e.pubs {
			if p.by != c.id && p.sentAt.After(since) {
				want++
				last = p.sentAt
			}
		}
		e.mu.Unlock()
		if want == 0 {
			continue
		}
		var ok bool
		if e.proto.Delivery == Latest {
			ok = c.waitFor(func() bool { return c.lastPushAt.After(last) })
		} else {
			ok = c.waitFor(func() bool { return c.pushes >= want })
		}
		if !ok {
			e.violate(propDelivery, "%v received %d pushes within %v; %d publishes by other clients since it subscribed owe it %s (last messages %q)",
				c, c.pushCount(), e.bound, want, e.proto.Delivery.owes(want), c.lastLines())
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
// new push, or be told it was dropped (an Error message, or its
// connection closed), within the bound.
func (e *env) resumed(st, p *client) {
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
	if e.request(p, 0); e.stuck() {
		return
	}
	ok := st.waitFor(func() bool { return st.pushes > before || st.notices > notices || st.readErr != nil })
	if !ok {
		e.violate(propDelivery, "%v stalled, then resumed reading: no push, no error and no close within %v of the next publish (last messages %q)",
			st, e.bound, st.lastLines())
	}
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

// pipelineUntilBlocked makes c send requests, without reading, until a
// write makes no progress for 250 ms (the server has stopped reading from
// c: its writes to c are blocked, or it pushes back) or max bytes are sent.
func (e *env) pipelineUntilBlocked(c *client, max int) {
	var chunk []byte
	var one []byte
	for len(chunk) < 64<<10 {
		one = e.nextRequest(c, 0)
		chunk = append(chunk, one...)
	}
	sent := 0
	c.outstanding.Add(1 << 40) // their answers are not awaited
	for sent < max {
		_ = c.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.conn.Write(chunk)
		sent += n
		if e.v1 != nil {
			e.v1.noteSent(one, n/len(one))
		}
		if err != nil {
			break
		}
	}
	e.logf("%v sent %d bytes of requests without reading before the server stopped reading them", c, sent)
}
