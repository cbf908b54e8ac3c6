package properties

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// The steps and phases below speak protocol v1: they know votes, tallies
// and the exact rules of package wire. Protocol v1 has no client library:
// its clients are always on the wire (client.wire).

// query asks for the tally and waits for one.
func (e *env) query(c *client) {
	n := c.tallyCount()
	c.mark("request", []byte("TALLY"))
	if err := c.wire().send(wire.AppendQuery(nil), 0); err != nil {
		e.violate(propProgress, "%v could not send TALLY: %v", c, err)
		return
	}
	if _, ok := c.waitTallies(n + 1); !ok {
		e.violate(propProgress, "%v: TALLY not answered within %v (last lines %q)", c, e.bound, c.lastLines())
	}
}

// halfClose sends n votes and a half-written line, closes the write side,
// and expects every vote answered, then a tally at least as new, then EOF.
// The half-written line must not count.
func (e *env) halfClose(c *client, n int) {
	req := e.v1.request(c.id)
	c.markN("request", fmt.Appendf(nil, "%d requests, then a half-close: %s", n, bytes.TrimRight(req, "\r\n")), n)
	_ = c.wire().send(append([]byte(strings.Repeat(string(req), n)), req[:len(req)-2]...), n)
	e.v1.noteSent(req, n)
	c.closed = true
	if err := c.conn.CloseWrite(); err != nil {
		e.violate(propHalfClose, "%v: CloseWrite: %v", c, err)
		return
	}
	for i := range n {
		r, err := c.wire().await(e.ctx)
		if err != nil || r.class != Reply || wire.KindOf(r.msg) != wire.MsgOK {
			e.violate(propHalfClose, "%v half-closed after %d votes; answer %d: %q %v (last lines %q)", c, n, i+1, r.msg, err, c.lastLines())
			return
		}
		e.v1.answered(c, req, r)
	}
	if n > 0 {
		if t, ok := c.waitTally(c.v1.lastAck); !ok {
			e.violate(propHalfClose, "%v half-closed: no tally ≥ %d after its OKs (last %d, lines %q)", c, c.v1.lastAck, t.Seq, c.lastLines())
			return
		}
	}
	if !e.waitDone(c) {
		e.violate(propHalfClose, "%v half-closed: server did not close within %v", c, e.bound)
	}
}

// garbage sends a malformed line and expects an ERR, the connection still
// open.
func (e *env) garbage(c *client, line string) {
	c.mark("request", []byte(line))
	if err := c.wire().send([]byte(line+"\n"), 1); err != nil {
		e.violate(propProgress, "%v could not send: %v", c, err)
		return
	}
	r, err := c.wire().await(e.ctx)
	if err != nil {
		e.violate(propProgress, "%v: %q not answered: %v", c, line, err)
		return
	}
	m, perr := wire.ParseMsg(r.msg, nil)
	switch {
	case perr != nil || m.Kind != wire.MsgErr:
		e.violate(propConsistency, "%v: %q answered %q, want ERR", c, line, r.msg)
	case m.Code != wire.CodeBadRequest && m.Code != wire.CodeUnknownOption:
		e.violate(propConsistency, "%v: %q answered ERR %s, want bad-request or unknown-option", c, line, m.Code)
	}
}

// floodLine sends a line that goes on far past the protocol's 256-byte
// limit. The server must answer ERR line-too-long while the line is still
// coming: one that waits for the end of the line is buffering it without
// bound.
func (e *env) floodLine() {
	c := e.connect(healthy, e.requester())
	if c == nil {
		return
	}
	c.closed = true // it makes no request after its line: nothing more is owed to it
	if v := e.sendEndlessLine(c); v != nil {
		v()
	}
}

// floodLineBeside is floodLine with its wait beside the caller's: it
// connects the client, sends its line from a goroutine, and returns the
// function that waits for the answer and returns the violation to
// report, if any (nil: none). The caller reports it, so that which of two
// violations a check reports does not depend on which wait ended first.
// It returns nil if the client could not connect.
func (e *env) floodLineBeside() func() (violation func()) {
	c := e.connect(healthy, e.requester())
	if c == nil {
		return nil
	}
	// Set here, not in the goroutine: the flood's pacer reads every
	// client's closed while it runs.
	c.closed = true
	done := make(chan func(), 1)
	go func() { done <- e.sendEndlessLine(c) }()
	return func() func() { return <-done }
}

// sendEndlessLine sends a line that never ends from c (already marked
// closed) and waits for the answer: it returns the violation to report,
// or nil. It touches only c's connection and counters, which the rest of
// the check does not read meanwhile.
func (e *env) sendEndlessLine(c *client) (violation func()) {
	e.logf("%v sends a line that never ends", c)
	chunk := []byte(strings.Repeat("x", 4096))
	c.wire().outstanding.Add(1)
	_ = c.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
	n, _ := c.conn.Write([]byte("VOTE "))
	c.noteWritten([]byte("VOTE ")[:n])
	for range 16 { // 64 KiB: the server may read and drop it, or stop reading
		n, err := c.conn.Write(chunk)
		c.noteWritten(chunk[:n])
		if err != nil {
			break
		}
	}
	r, err := c.wire().await(e.ctx)
	switch {
	case err != nil:
		return func() { e.violate(propBounded, "a line of 64 KiB and more, still unfinished, got no answer: %v", err) }
	case !isErr(r.msg, wire.CodeLineTooLong):
		return func() { e.violate(propBounded, "a line of 64 KiB and more got %q, want ERR line-too-long", r.msg) }
	}
	return nil
}

// audit quiesces the scenario and checks the final state: a new client's
// TALLY (the final tally) counts every acknowledged vote and no more votes
// than were sent, and every client still owed answers has received exactly
// that tally.
func (e *env) audit() {
	e.logf("audit")
	// Clients that don't read may still have votes on the way: stop them, so
	// the tally settles.
	e.mu.Lock()
	cs := slices.Clone(e.clients)
	e.mu.Unlock()
	for _, c := range cs {
		if !c.kind.answers() && !c.closed {
			c.closed = true
			c.close()
		}
	}
	auditor := e.connect(healthy, e.requester())
	if auditor == nil || e.stuck() {
		return
	}
	var final wire.Msg
	auditStart := time.Now()
settle:
	for first := true; ; first = false {
		n := auditor.tallyCount()
		if err := auditor.wire().send(wire.AppendQuery(nil), 0); err != nil {
			e.violate(propProgress, "auditor: %v", err)
			return
		}
		m, ok := auditor.waitTallies(n + 1)
		if !ok {
			e.violate(propProgress, "auditor: TALLY not answered within %v", e.bound)
			return
		}
		if !first && m.Seq == final.Seq {
			// Stable, unless a client has seen a newer tally meanwhile
			// (votes read from a closed flooder may still be counted).
			for _, c := range cs {
				if owed(c) && c.lastTally().Seq > final.Seq {
					if e.virtual {
						e.waitALittle() // a round trip takes no virtual time
					}
					if time.Since(auditStart) > 5*e.bound {
						e.violate(propConsistency, "TALLY answers %d while %v has already seen tally %d", final.Seq, c, c.lastTally().Seq)
						return
					}
					continue settle
				}
			}
			break // stable: nothing new was counted
		}
		final = m
		// Let the clients catch up to this tally, then ask again.
		late := false
		for _, c := range cs {
			if owed(c) {
				_, ok := c.catchUp(final.Seq, late)
				late = late || !ok
			}
		}
		if e.virtual {
			e.waitALittle()
		}
		if time.Since(auditStart) > 5*e.bound {
			e.violate(propProgress, "the tally kept moving after all voting stopped (now %d)", final.Seq)
			return
		}
	}
	e.logf("final tally: seq %d %v", final.Seq, final.Counts)
	v := e.v1
	opts := v.options()
	v.mu.Lock()
	acked := v.ledger.PerOption()
	sent := maps.Clone(v.sent)
	v.mu.Unlock()
	for i, o := range opts {
		if n := int(final.Counts[i]); v.fresh && (n < acked[i] || n > sent[o]) {
			e.violate(propConsistency, "final tally %s=%d, but %d votes for it were acknowledged and %d sent", o, n, acked[i], sent[o])
		}
	}
	// Every tally any client received, against every acknowledged vote.
	for _, c := range cs {
		c.mu.Lock()
		seen := slices.Clone(c.v1.seen)
		c.mu.Unlock()
		for _, m := range seen {
			v.checkTally(c, m)
		}
	}
	late := false
	for _, c := range cs {
		if !owed(c) {
			continue
		}
		got, ok := c.catchUp(final.Seq, late)
		late = late || !ok
		switch {
		case ok && got.Seq > final.Seq:
			// Counted after the audit settled: votes a closed client had
			// sent, still in the server's buffers. Not stale.
			e.logf("%v's last tally %d is newer than the settled final %d", c, got.Seq, final.Seq)
		case !ok:
			e.violate(propProgress, "%v never received the final tally %d (last: %d, lines %q)", c, final.Seq, got.Seq, c.lastLines())
		case !slices.Equal(got.Counts, final.Counts) || got.Seq != final.Seq:
			e.violate(propConsistency, "%v's last tally is %d %v, the final one %d %v", c, got.Seq, got.Counts, final.Seq, final.Counts)
		}
	}
}

// burst makes at least four healthy clients vote concurrently, many times,
// while another client asks for the tally over and over: the interleavings
// where ordering and snapshot bugs show.
func burst(e *env) {
	e.mu.Lock()
	n := 0
	for _, c := range e.clients {
		if owed(c) {
			n++
		}
	}
	e.mu.Unlock()
	for ; n < 4; n++ {
		e.connect(healthy, e.requester())
	}
	q := e.connect(healthy, e.requester())
	if q == nil || e.stuck() {
		return
	}
	q.closed = true // not a voter: parallel leaves it out
	e.logf("burst: every healthy client sends 100 votes at once, 4 times, while %v asks for the tally 100 times each time", q)
	for range 4 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			before := q.tallyCount()
			if err := q.wire().send(bytes.Repeat(wire.AppendQuery(nil), 100), 0); err != nil {
				e.violate(propProgress, "%v could not send: %v", q, err)
				return
			}
			if _, ok := q.waitTallies(before + 100); !ok {
				e.violate(propProgress, "%v: 100 TALLY requests not all answered within %v", q, e.bound)
			}
		}()
		e.parallel(100)
		<-done
		if e.stuck() {
			return
		}
	}
	q.closed = false
}

// partingsV1 makes clients leave in each way a client can: one half-closes
// after its votes, one resets after its votes were acknowledged.
func partingsV1(e *env) {
	e.logf("partings: a client half-closes after 10 votes; another resets after 3 acknowledged votes")
	if c := e.connect(healthy, e.requester()); c != nil && !e.stuck() {
		e.halfClose(c, 10)
	}
	e.resetAfterRequests(3)
}

// isErr reports whether msg is an ERR line with the given code.
func isErr(msg, code string) bool {
	m, err := wire.ParseMsg(msg, nil)
	return err == nil && m.Kind == wire.MsgErr && m.Code == code
}
