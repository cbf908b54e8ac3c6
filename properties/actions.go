package properties

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/wire"
)

// op is one kind of step in a scenario.
type op int

const (
	opVote         op = iota // a client votes and, if it reads, waits for OK
	opQuery                  // a client asks for the tally
	opParallel               // every healthy client sends n votes at once
	opStall                  // a client stops reading
	opResume                 // a stalled client reads again
	opFlood                  // a client sends n votes without reading
	opAcceptErrors           // the next n Accepts fail with EMFILE, then a client connects
	opConnect                // a new client of some kind connects
	opDisconnect             // a client closes
	opReset                  // a client's connection is reset
	opHalfClose              // a client sends n votes, then closes its write side
	opGarbage                // a client sends a malformed line
)

// action is one drawn step. It prints as a call, so a shrunk scenario reads
// as a story.
type action struct {
	op   op
	c    int // client, modulo the number of clients
	n    int
	opt  int // option, modulo the number of options
	kind kind
	text string
}

// GoString makes rapid print the action as a call too.
func (a action) GoString() string { return a.String() }

func (a action) String() string {
	switch a.op {
	case opVote:
		return fmt.Sprintf("vote(c%d, opt%d)", a.c, a.opt)
	case opQuery:
		return fmt.Sprintf("query(c%d)", a.c)
	case opParallel:
		return fmt.Sprintf("parallel(%d votes each)", a.n)
	case opStall:
		return fmt.Sprintf("stall(c%d)", a.c)
	case opResume:
		return fmt.Sprintf("resume(c%d)", a.c)
	case opFlood:
		return fmt.Sprintf("flood(c%d, %d votes)", a.c, a.n)
	case opAcceptErrors:
		return fmt.Sprintf("acceptErrors(%d)", a.n)
	case opConnect:
		return fmt.Sprintf("connect(%v)", a.kind)
	case opDisconnect:
		return fmt.Sprintf("disconnect(c%d)", a.c)
	case opReset:
		return fmt.Sprintf("reset(c%d)", a.c)
	case opHalfClose:
		return fmt.Sprintf("halfClose(c%d, after %d votes)", a.c, a.n)
	case opGarbage:
		return fmt.Sprintf("garbage(c%d, %q)", a.c, a.text)
	}
	return fmt.Sprintf("op%d", a.op)
}

// garbage lines: each must get an ERR and leave the connection open.
var garbage = []string{
	"", "VOTE", "VOTE ", "vote red", "VOTE Red", "VOTE no-such-option", "VOTE a b",
	"TALLY now", "QUIT!", "HELLO", "\x00\x01\x02", "VOTE " + strings.Repeat("x", 33), "OK 1",
}

// actionGen draws steps from ops.
func actionGen(ops []op, kinds []kind) *rapid.Generator[action] {
	return rapid.Custom(func(t *rapid.T) action {
		a := action{op: rapid.SampledFrom(ops).Draw(t, "op")}
		switch a.op {
		case opVote:
			a.c = rapid.IntRange(0, 7).Draw(t, "client")
			a.opt = rapid.IntRange(0, 3).Draw(t, "option")
		case opQuery, opStall, opResume, opDisconnect, opReset:
			a.c = rapid.IntRange(0, 7).Draw(t, "client")
		case opParallel:
			a.n = rapid.IntRange(1, 20).Draw(t, "votes each")
		case opFlood:
			a.c = rapid.IntRange(0, 7).Draw(t, "client")
			a.n = rapid.IntRange(1, 2000).Draw(t, "votes")
		case opAcceptErrors:
			a.n = rapid.IntRange(1, 5).Draw(t, "errors")
		case opConnect:
			a.kind = rapid.SampledFrom(kinds).Draw(t, "kind")
		case opHalfClose:
			a.c = rapid.IntRange(0, 7).Draw(t, "client")
			a.n = rapid.IntRange(0, 10).Draw(t, "votes")
		case opGarbage:
			a.c = rapid.IntRange(0, 7).Draw(t, "client")
			a.text = rapid.SampledFrom(garbage).Draw(t, "line")
		}
		return a
	})
}

// pick returns the client an action names, or nil if there is none.
func (e *env) pick(i int) *client {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.clients) == 0 {
		return nil
	}
	return e.clients[i%len(e.clients)]
}

// owed reports whether c must answer within the bound.
func owed(c *client) bool { return c.kind.answers() && !c.tainted && !c.closed }

// do runs one step.
func (e *env) do(a action) {
	if e.serveReturned() {
		return
	}
	e.logf("%v", a)
	c := e.pick(a.c)
	switch a.op {
	case opVote:
		if c == nil || c.closed {
			return
		}
		opt := e.option(a.opt)
		if !owed(c) {
			e.pipeline(c, opt, 1)
			return
		}
		e.vote(c, opt)
	case opQuery:
		if c != nil && owed(c) {
			e.query(c)
		}
	case opParallel:
		e.parallel(a.n)
	case opStall:
		if c != nil && !c.closed && c.stall == nil {
			c.stall = c.conn.Inject(faultnet.StallReads())
			c.tainted = true
		}
	case opResume:
		if c != nil && c.stall != nil {
			c.stall.Remove()
			c.stall = nil
		}
	case opFlood:
		if c != nil && !c.closed && !c.kind.answers() {
			e.pipeline(c, e.option(a.opt), a.n)
		}
	case opAcceptErrors:
		e.ln.FailAccepts(a.n)
		e.connect(healthy)
	case opConnect:
		e.connect(a.kind)
	case opDisconnect:
		if c != nil && !c.closed {
			c.closed = true
			_ = c.conn.Close()
		}
	case opReset:
		if c != nil && !c.closed {
			c.closed = true
			c.conn.Inject(faultnet.Reset())
		}
	case opHalfClose:
		if c != nil && owed(c) {
			e.halfClose(c, a.n)
		}
	case opGarbage:
		if c != nil && owed(c) {
			e.garbage(c, a.text)
		}
	}
}

func (e *env) option(i int) string {
	opts := e.options()
	if len(opts) == 0 {
		return "none"
	}
	return opts[i%len(opts)]
}

// connect dials a new client; one that reads must get HELLO in time.
func (e *env) connect(k kind) *client {
	c, err := e.dial(k)
	if err != nil {
		e.violate(propProgress, "dial: %v", err)
		return nil
	}
	if k.answers() {
		e.awaitHello(c)
	}
	if k == slowloris {
		line := e.requests(c, e.option(0), 1)
		_ = c.send(line[:len(line)/2])
	}
	return c
}

// vote sends one vote and waits for its OK.
func (e *env) vote(c *client, opt string) {
	if err := c.send(e.requests(c, opt, 1)); err != nil {
		e.violate(propProgress, "%v could not send a request: %v", c, err)
		return
	}
	e.noteSent(opt, 1)
	e.expectOK(c, opt)
}

// expectOK waits for the reply to a vote.
func (e *env) expectOK(c *client, opt string) bool {
	m, err := c.await(e.ctx)
	switch {
	case err != nil && e.cfg.adapter != nil:
		e.violate(propProgress, "%v: request not answered: %v", c, err)
		return false
	case err != nil:
		e.violate(propProgress, "%v: VOTE %s not answered: %v", c, opt, err)
		return false
	case e.cfg.adapter != nil:
		return true // any reply will do
	case m.Kind != wire.MsgOK:
		e.violate(propConsistency, "%v: VOTE %s answered %v %s %s", c, opt, m.Kind, m.Code, m.Text)
		return false
	}
	if m.Seq <= c.lastAck {
		e.violate(propConsistency, "%v: OK %d after OK %d", c, m.Seq, c.lastAck)
	}
	c.lastAck = m.Seq
	e.noteAck(c, m.Seq, opt)
	return true
}

// pipeline sends n votes in one write without waiting for answers: how a
// client that does not read behaves. A write that blocks is the server
// pushing back, which is allowed.
func (e *env) pipeline(c *client, opt string, n int) {
	line := "VOTE " + opt + "\n"
	buf := e.requests(c, opt, n)
	// Not a liveness bound: how long the client keeps trying to write.
	_ = c.conn.SetWriteDeadline(time.Now().Add(min(e.cfg.bound, 100*time.Millisecond)))
	m, _ := c.conn.Write([]byte(buf))
	e.noteSent(opt, m/len(line))
}

// query asks for the tally and waits for one at least as new as the
// client's last OK.
func (e *env) query(c *client) {
	n := c.tallyCount()
	if err := c.send("TALLY\n"); err != nil {
		e.violate(propProgress, "%v could not send TALLY: %v", c, err)
		return
	}
	if _, ok := c.waitTallies(n + 1); !ok {
		e.violate(propProgress, "%v: TALLY not answered within %v (last lines %q)", c, e.cfg.bound, c.lastLines())
	}
}

// parallel makes every client that reads send n votes at once, from its own
// goroutine, and wait for the n OKs: concurrent votes, where ordering bugs
// live.
func (e *env) parallel(n int) {
	e.mu.Lock()
	var cs []*client
	for _, c := range e.clients {
		if owed(c) {
			cs = append(cs, c)
		}
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for i, c := range cs {
		opt := e.option(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.send(e.requests(c, opt, n)); err != nil {
				e.violate(propProgress, "%v could not send votes: %v", c, err)
				return
			}
			e.noteSent(opt, n)
			for range n {
				if !e.expectOK(c, opt) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// halfClose sends n votes and a half-written line, closes the write side,
// and expects every vote answered, then a tally at least as new, then EOF.
// The half-written line must not count.
func (e *env) halfClose(c *client, n int) {
	opt := e.option(c.id)
	_ = c.send(strings.Repeat("VOTE "+opt+"\n", n) + "VOTE " + opt)
	e.noteSent(opt, n)
	c.closed = true
	if err := c.conn.CloseWrite(); err != nil {
		e.violate(propHalfClose, "%v: CloseWrite: %v", c, err)
		return
	}
	for i := range n {
		m, err := c.await(e.ctx)
		if err != nil || m.Kind != wire.MsgOK {
			e.violate(propHalfClose, "%v half-closed after %d votes; answer %d: %v %v (last lines %q)", c, n, i+1, m.Kind, err, c.lastLines())
			return
		}
		c.lastAck = m.Seq
		e.noteAck(c, m.Seq, opt)
	}
	if n > 0 {
		if t, ok := c.waitTally(c.lastAck); !ok {
			e.violate(propHalfClose, "%v half-closed: no tally ≥ %d after its OKs (last %d, lines %q)", c, c.lastAck, t.Seq, c.lastLines())
			return
		}
	}
	if !e.waitDone(c) {
		e.violate(propHalfClose, "%v half-closed: server did not close within %v", c, e.cfg.bound)
	}
}

// garbage sends a malformed line and expects an ERR, the connection still
// open (or, for a line too long, ERR line-too-long and a close).
func (e *env) garbage(c *client, line string) {
	if err := c.send(line + "\n"); err != nil {
		e.violate(propProgress, "%v could not send: %v", c, err)
		return
	}
	m, err := c.await(e.ctx)
	switch {
	case err != nil:
		e.violate(propProgress, "%v: %q not answered: %v", c, line, err)
	case m.Kind != wire.MsgErr:
		e.violate(propConsistency, "%v: %q answered %v, want ERR", c, line, m.Kind)
	case m.Code != wire.CodeBadRequest && m.Code != wire.CodeUnknownOption:
		e.violate(propConsistency, "%v: %q answered ERR %s, want bad-request or unknown-option", c, line, m.Code)
	}
}

// waitDone waits for the server to close c's connection.
func (e *env) waitDone(c *client) bool {
	return e.within(c.done)
}

// requests returns n requests from c, one after another: n votes for opt
// in protocol v1, or the adapter's next n requests.
func (e *env) requests(c *client, opt string, n int) string {
	var b strings.Builder
	for range n {
		if a := e.cfg.adapter; a != nil {
			b.WriteString(a.Request(c.id, c.nreq))
		} else {
			b.WriteString("VOTE " + opt + "\n")
		}
		c.nreq++
	}
	return b.String()
}
