package properties

import (
	"fmt"
	"strings"
	"sync"

	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/faultnet"
)

// op is one kind of step in a scenario.
type op int

const (
	opRequest      op = iota // a client makes a request and, if it reads, waits for the answer
	opParallel               // every healthy client sends n requests at once
	opStall                  // a client stops reading
	opResume                 // a stalled client reads again
	opFlood                  // a client sends n requests without reading
	opAcceptErrors           // the next n Accepts fail with EMFILE, then a client connects
	opConnect                // a new client of some kind and role connects
	opDisconnect             // a client closes
	opReset                  // a client's connection is reset
	opQuery                  // protocol v1: a client asks for the tally
	opHalfClose              // protocol v1: a client sends n votes, then closes its write side
	opGarbage                // protocol v1: a client sends a malformed line
)

// action is one drawn step. The client it names is drawn among the
// clients that exist when it runs, so "c2" in a shrunk scenario is client
// 2 of the report. It prints as a call, so a shrunk scenario reads as a
// story.
type action struct {
	op   op
	c    int
	n    int
	kind kind
	role string
	text string
}

// GoString makes rapid print the action as a call too.
func (a action) GoString() string { return a.String() }

func (a action) String() string {
	switch a.op {
	case opRequest:
		return fmt.Sprintf("request(c%d)", a.c)
	case opQuery:
		return fmt.Sprintf("query(c%d)", a.c)
	case opParallel:
		return fmt.Sprintf("parallel(%d requests each)", a.n)
	case opStall:
		return fmt.Sprintf("stall(c%d)", a.c)
	case opResume:
		return fmt.Sprintf("resume(c%d)", a.c)
	case opFlood:
		return fmt.Sprintf("flood(c%d, %d requests)", a.c, a.n)
	case opAcceptErrors:
		return fmt.Sprintf("acceptErrors(%d)", a.n)
	case opConnect:
		if a.role != "" {
			return fmt.Sprintf("connect(%v %s)", a.kind, a.role)
		}
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

// garbage lines of protocol v1: each must get an ERR and leave the
// connection open.
var garbage = []string{
	"", "VOTE", "VOTE ", "vote red", "VOTE Red", "VOTE no-such-option", "VOTE a b",
	"TALLY now", "QUIT!", "HELLO", "\x00\x01\x02", "VOTE " + strings.Repeat("x", 33), "OK 1",
}

// opsFor drops the steps a protocol or target cannot take.
func opsFor(p *Protocol, ops []op) []op {
	var out []op
	for _, o := range ops {
		switch {
		case (o == opQuery || o == opHalfClose || o == opGarbage) && !p.v1:
		case o == opFlood && p.Connect != nil:
		default:
			out = append(out, o)
		}
	}
	return out
}

// drawAction draws the next step among the clients that exist now.
func (e *env) drawAction(t *rapid.T, ops []op, kinds []kind) action {
	e.mu.Lock()
	n := len(e.clients)
	e.mu.Unlock()
	return rapid.Custom(func(t *rapid.T) action {
		a := action{op: rapid.SampledFrom(ops).Draw(t, "op")}
		client := func() int { return rapid.IntRange(0, max(n-1, 0)).Draw(t, "client") }
		switch a.op {
		case opRequest:
			a.c = client()
			a.n = rapid.IntRange(0, 3).Draw(t, "variant")
		case opQuery, opStall, opResume, opDisconnect, opReset:
			a.c = client()
		case opParallel:
			a.n = rapid.IntRange(1, 20).Draw(t, "requests each")
		case opFlood:
			a.c = client()
			a.n = rapid.IntRange(1, 2000).Draw(t, "requests")
		case opAcceptErrors:
			a.n = rapid.IntRange(1, 5).Draw(t, "errors")
		case opConnect:
			a.kind = rapid.SampledFrom(kinds).Draw(t, "kind")
			a.role = e.drawRole(t)
		case opHalfClose:
			a.c = client()
			a.n = rapid.IntRange(0, 10).Draw(t, "votes")
		case opGarbage:
			a.c = client()
			a.text = rapid.SampledFrom(garbage).Draw(t, "line")
		}
		return a
	}).Draw(t, "step")
}

// drawRole draws a role name; "" when the protocol has one role.
func (e *env) drawRole(t *rapid.T) string {
	if len(e.proto.Roles) == 1 {
		return ""
	}
	return rapid.SampledFrom(e.proto.Roles).Draw(t, "role").Name
}

// roleNamed returns the role of that name, or the first.
func (e *env) roleNamed(name string) *Role {
	for i := range e.proto.Roles {
		if e.proto.Roles[i].Name == name {
			return &e.proto.Roles[i]
		}
	}
	return &e.proto.Roles[0]
}

// pick returns the client an action names, or nil if there is none.
func (e *env) pick(i int) *client {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i < 0 || i >= len(e.clients) {
		return nil
	}
	return e.clients[i]
}

// owed reports whether c must answer within the bound.
func owed(c *client) bool { return c.kind.answers() && !c.tainted.Load() && !c.closed }

// makesRequests reports whether clients of role r make requests.
func (e *env) makesRequests(r *Role) bool {
	switch {
	case e.proto.v1:
		return true
	case e.proto.Connect != nil:
		return r.Publishes || !r.Subscribes
	}
	return r.Request != nil
}

// do runs one step.
func (e *env) do(a action) {
	if e.serveReturned() {
		return
	}
	e.logf("%v", a)
	c := e.pick(a.c)
	switch a.op {
	case opRequest:
		switch {
		case c == nil || c.closed:
		case owed(c):
			e.request(c, a.n)
		case c.kind.answers() || c.kind == flooder || c.kind == stalled || c.kind == trickler:
			e.pipeline(c, a.n, 1)
		}
	case opQuery:
		if c != nil && owed(c) {
			e.query(c)
		}
	case opParallel:
		e.parallel(a.n)
	case opStall:
		if c != nil && !c.closed && c.stall == nil {
			c.stallReads()
			c.tainted.Store(true)
		}
	case opResume:
		if c != nil && c.stall != nil {
			c.resume()
		}
	case opFlood:
		if c != nil && !c.closed && !c.kind.answers() {
			e.pipeline(c, 0, a.n)
		}
	case opAcceptErrors:
		if e.failAccepts(a.n) {
			e.connect(healthy, e.requester())
		}
	case opConnect:
		e.connect(a.kind, e.roleNamed(a.role))
	case opDisconnect:
		if c != nil && !c.closed {
			c.closed = true
			c.close()
		}
	case opReset:
		if c != nil && !c.closed {
			c.closed = true
			c.inject(faultnet.Reset())
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

// requester returns a role that makes requests, publishing ones first.
func (e *env) requester() *Role {
	for i := range e.proto.Roles {
		if r := &e.proto.Roles[i]; r.Publishes && e.makesRequests(r) {
			return r
		}
	}
	for i := range e.proto.Roles {
		if r := &e.proto.Roles[i]; e.makesRequests(r) {
			return r
		}
	}
	return &e.proto.Roles[0]
}

// subscriber returns a role that subscribes, or nil.
func (e *env) subscriber() *Role {
	for i := range e.proto.Roles {
		if r := &e.proto.Roles[i]; r.Subscribes {
			return r
		}
	}
	return nil
}

// connect dials a new client; one that reads must be greeted in time.
// Every client waits for its greeting before its kind's faults apply: a
// stalled subscriber is subscribed.
func (e *env) connect(k kind, r *Role) *client {
	c, err := e.dial(k, r)
	if err != nil {
		e.violate(propProgress, "%v could not connect: %v", c, err)
		return nil
	}
	if e.proto.greets(r) {
		if k.answers() || e.proto.v1 {
			if !e.awaitGreeting(c) {
				return nil
			}
		} else if !e.within(c.greeted) || !c.isGreeted() {
			// A client that will not read is greeted before it stalls;
			// a server that does not greet it is noted, not failed: its
			// healthy peers show whether that matters.
			e.logf("%v was not greeted; it goes on regardless", c)
		}
	}
	if k.stalls() {
		c.stallReads()
	} else {
		k.faults(c)
	}
	if k == slowloris {
		if req := e.nextRequest(c, 0); len(req) > 1 && c.onWire() {
			_ = c.wire().send(req[:len(req)/2], 0)
		}
	}
	return c
}

// nextRequest returns c's next request (variant i, for protocol v1), or
// nil if its role makes none.
func (e *env) nextRequest(c *client, i int) []byte {
	switch {
	case e.v1 != nil:
		c.nreq++
		return e.v1.request(i)
	case c.role.Request != nil:
		req := c.role.Request(c.id, c.nreq)
		c.nreq++
		return req
	}
	return nil
}

// request makes one request of c and waits for its answer.
func (e *env) request(c *client, variant int) bool {
	if !e.makesRequests(c.role) {
		return true
	}
	return c.t.request(variant)
}

// noteAnswered counts an answered request; one of a publishing role is a
// publish the subscribers must see.
func (e *env) noteAnswered(c *client, sent int64) {
	e.cfg.noteSpoke()
	e.mu.Lock()
	e.answered++
	if c.role.Publishes && !c.quiet.Load() { // a quiet client keeps the harness's memory flat
		e.pubs = append(e.pubs, publish{by: c.id, sent: sent})
	}
	e.mu.Unlock()
}

// pipeline sends n requests (variant i) without waiting for answers, on
// the wire; a client that a library drives cannot.
func (e *env) pipeline(c *client, i, n int) {
	if w := c.wire(); w != nil && e.makesRequests(c.role) && !c.closed {
		w.pipeline(i, n)
	}
}

// parallel makes every owed client that makes requests send n at once,
// from its own goroutine, and wait for the n answers: concurrent requests,
// where ordering bugs live. It returns the number of requests made.
func (e *env) parallel(n int) (requests int) {
	e.mu.Lock()
	var cs []*client
	for _, c := range e.clients {
		if owed(c) && e.makesRequests(c.role) {
			cs = append(cs, c)
		}
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.t.parallel(n)
		}()
	}
	wg.Wait()
	return n * len(cs)
}

// waitDone waits for the server to close c's connection.
func (e *env) waitDone(c *client) bool {
	return e.within(c.done)
}
