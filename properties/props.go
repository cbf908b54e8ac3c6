package properties

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/wire"
)

// Property names, as subtests of Run and arguments of Properties.
const (
	propProgress    = "progress"
	propConsistency = "consistency"
	propIsolation   = "isolation"
	propBounded     = "bounded"
	propHalfClose   = "halfclose"
	propLeaks       = "leaks"
)

func allProps() []string {
	return []string{propProgress, propConsistency, propIsolation, propBounded, propHalfClose, propLeaks}
}

// property is one invariant and the scenarios that probe it.
type property struct {
	name  string
	kinds []kind // kinds of client a scenario may start with or connect
	ops   []op
	// extra runs after the scenario, before the final audit (nil: none).
	extra func(e *env)
	// finish runs after the final audit (nil: none).
	finish func(e *env)
}

var properties = map[string]property{
	propProgress: {
		name:  propProgress,
		kinds: []kind{healthy, healthy, fragmenter, garbler, stalled, trickler, flooder, slowloris},
		ops: []op{opVote, opVote, opVote, opQuery, opStall, opResume, opFlood, opAcceptErrors,
			opConnect, opDisconnect, opReset, opGarbage, opParallel},
		extra: pressure,
	},
	propConsistency: {
		name:  propConsistency,
		kinds: []kind{healthy, healthy, fragmenter, garbler, stalled, trickler},
		ops:   []op{opVote, opVote, opParallel, opParallel, opQuery, opStall, opResume, opConnect, opDisconnect, opGarbage},
		extra: burst,
	},
	propIsolation: {
		name:  propIsolation,
		kinds: []kind{healthy, fragmenter},
		ops:   []op{opVote, opQuery, opConnect},
		extra: isolation,
	},
	propBounded: {
		name:  propBounded,
		kinds: []kind{healthy, stalled, flooder},
		ops:   []op{opVote, opStall, opFlood, opConnect},
		extra: bounded,
	},
	propHalfClose: {
		name:  propHalfClose,
		kinds: []kind{healthy, healthy, stalled},
		ops:   []op{opVote, opHalfClose, opHalfClose, opReset, opParallel, opConnect},
		extra: partings,
	},
	propLeaks: {
		name:   propLeaks,
		kinds:  []kind{healthy, stalled, flooder, trickler, slowloris},
		ops:    []op{opVote, opConnect, opDisconnect, opReset, opHalfClose, opStall, opFlood},
		finish: leaks,
	},
}

// check runs one scenario of p against serve and fails t if p is violated.
func check(t *rapid.T, cfg *config, p property, serve ServeFunc) {
	pk, pops := p.kinds, p.ops
	if cfg.adapter != nil {
		pk, pops = genericKinds(pk), genericOps(pops)
	}
	kinds := rapid.SliceOfN(rapid.SampledFrom(pk), 1, 4).Draw(t, "clients")
	kinds[0] = healthy // someone is always owed answers
	acts := rapid.SliceOfN(actionGen(pops, pk), 0, cfg.maxSteps).Draw(t, "actions")

	e := newEnv(t, cfg, p.name, serve)
	e.steps = len(acts)
	var leaksChecked bool
	defer func() {
		if !leaksChecked {
			e.shutdown()
		}
		e.lag.close()
		if debugTrace {
			t.Log(e.report(p.name, "(trace)"))
		}
		if v, ok := e.violated(p.name); ok {
			t.Fatal(e.report(p.name, v))
		}
	}()
	if p.name == propLeaks {
		e.warmUp()
	}
	for _, k := range kinds {
		e.connect(k)
		if e.stuck() {
			return
		}
	}
	for _, a := range acts {
		e.do(a)
		if e.stuck() {
			return
		}
	}
	if p.extra != nil && !e.stuck() {
		p.extra(e)
	}
	if !e.stuck() && !e.serveReturned() && cfg.adapter == nil {
		e.audit()
	}
	if p.finish != nil && !e.serveReturned() {
		// Even after another property's violation: a server that stopped
		// pushing tallies may leak goroutines too, and this is the
		// property under test.
		p.finish(e)
		leaksChecked = true
	}
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
			_ = c.conn.Close()
		}
	}
	auditor := e.connect(healthy)
	if auditor == nil || e.stuck() {
		return
	}
	var final wire.Msg
	auditStart := time.Now()
	for first := true; ; first = false {
		n := auditor.tallyCount()
		if err := auditor.send("TALLY\n"); err != nil {
			e.violate(propProgress, "auditor: %v", err)
			return
		}
		m, ok := auditor.waitTallies(n + 1)
		if !ok {
			e.violate(propProgress, "auditor: TALLY not answered within %v", e.cfg.bound)
			return
		}
		if !first && m.Seq == final.Seq {
			break // stable: nothing new was counted
		}
		final = m
		// Let the clients catch up to this tally, then ask again.
		for _, c := range cs {
			if owed(c) {
				c.waitTally(final.Seq)
			}
		}
		if time.Since(auditStart) > 5*e.cfg.bound {
			e.violate(propProgress, "the tally kept moving after all voting stopped (now %d)", final.Seq)
			return
		}
	}
	e.logf("final tally: seq %d %v", final.Seq, final.Counts)
	opts := e.options()
	e.mu.Lock()
	acked := e.ledger.perOption()
	sent := maps.Clone(e.sent)
	e.mu.Unlock()
	for i, o := range opts {
		if n := int(final.Counts[i]); n < acked[i] || n > sent[o] {
			e.violate(propConsistency, "final tally %s=%d, but %d votes for it were acknowledged and %d sent", o, n, acked[i], sent[o])
		}
	}
	// Every tally any client received, against every acknowledged vote.
	for _, c := range cs {
		c.mu.Lock()
		seen := slices.Clone(c.seen)
		c.mu.Unlock()
		for _, m := range seen {
			e.checkTally(c, m)
		}
	}
	for _, c := range cs {
		if !owed(c) {
			continue
		}
		got, ok := c.waitTally(final.Seq)
		switch {
		case !ok:
			e.violate(propProgress, "%v never received the final tally %d (last: %d, lines %q)", c, final.Seq, got.Seq, c.lastLines())
		case !slices.Equal(got.Counts, final.Counts) || got.Seq != final.Seq:
			e.violate(propConsistency, "%v's last tally is %d %v, the final one %d %v", c, got.Seq, got.Counts, final.Seq, final.Counts)
		}
	}
}

// pressure ends a progress scenario with a stalled client connected and
// enough concurrent votes to fill its buffer many times over: a server that
// blocks on one client's Write freezes here, whatever the scenario before.
func pressure(e *env) {
	e.connect(stalled)
	e.logf("pressure: a client stalls; every healthy client sends 200 votes at once, twice")
	for range 2 {
		if e.parallel(200); e.stuck() {
			return
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
		e.connect(healthy)
	}
	q := e.connect(healthy)
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
			if err := q.send(strings.Repeat("TALLY\n", 100)); err != nil {
				e.violate(propProgress, "%v could not send: %v", q, err)
				return
			}
			if _, ok := q.waitTallies(before + 100); !ok {
				e.violate(propProgress, "%v: 100 TALLY requests not all answered within %v", q, e.cfg.bound)
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

// warmUp connects a client that votes and leaves before the scenario, so
// that the goroutines a server starts once, lazily, are in the baseline of
// the leak check.
func (e *env) warmUp() {
	c := e.connect(healthy)
	if c == nil || e.stuck() {
		return
	}
	e.vote(c, e.option(0))
	c.closed = true
	_ = c.conn.Close()
	<-c.done
	e.warm = goleak.IgnoreCurrent()
	e.logf("warm-up done")
}

// partings makes clients leave in each way a client can: one half-closes
// after its votes, one resets after its votes were acknowledged. Every
// check sees both, whatever the scenario drew.
func partings(e *env) {
	e.logf("partings: a client half-closes after 10 votes; another resets after 3 acknowledged votes")
	if c := e.connect(healthy); c != nil && !e.stuck() {
		e.halfClose(c, 10)
	}
	if c := e.connect(healthy); c != nil && !e.stuck() {
		for range 3 {
			if e.vote(c, e.option(1)); e.stuck() {
				return
			}
		}
		c.closed = true
		c.conn.Inject(faultnet.Reset())
	}
}

// leaks checks that goroutines return to the baseline once every client has
// gone while the server still runs, and that a shutdown with stalled
// clients connected ends within the bound and leaves no goroutine behind.
func leaks(e *env) {
	if !e.stuck() {
		partings(e)
	}
	e.closeClients()
	if err := findLeaks(e, e.warm); err != nil {
		e.violate(propLeaks, "goroutines remain after every client left, while the server runs:\n%v", err)
	}
	// Shutdown with stalled clients whose buffers are full.
	e.logf("shutdown with stalled clients")
	for range 2 {
		e.connect(stalled)
	}
	if v := e.connect(healthy); v != nil && !e.stuck() {
		for range 64 {
			if e.vote(v, e.option(1)); e.stuck() {
				break
			}
		}
	}
	e.cancel()
	if !e.within(e.serveEnd) {
		e.violate(propLeaks, "Serve did not return within %v with stalled clients connected", e.cfg.bound)
		e.closeClients()
		return
	}
	if err := findLeaks(e, e.baseline, goleak.IgnoreAnyFunction(harnessPkg+"(*client).readLoop")); err != nil {
		e.violate(propLeaks, "goroutines remain after Serve returned:\n%v", err)
	}
	e.closeClients()
	_ = e.ln.Close()
}

// findLeaks polls for goroutines newer than base, for up to the bound.
func findLeaks(e *env, base goleak.Option, more ...goleak.Option) error {
	opts := append([]goleak.Option{base}, e.cfg.leakOpts...)
	opts = append(opts, more...)
	deadline := time.Now().Add(e.cfg.bound)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}

// isolation compares healthy clients' acknowledgement latency without and
// with stalled and flooding peers, measured in the same check.
func isolation(e *env) {
	const votes = 30 // per measurement
	voter := e.connect(healthy)
	if voter == nil || e.stuck() {
		return
	}
	timed := func() (time.Duration, bool) {
		start := time.Now()
		e.vote(voter, e.option(0))
		return time.Since(start), !e.stuck()
	}
	calm := make([]time.Duration, 0, votes)
	for range votes {
		d, ok := timed()
		if !ok {
			return
		}
		calm = append(calm, d)
	}
	base := median(calm)
	limit := 20*base + 50*time.Millisecond
	e.logf("median ack latency alone: %v; limit with stalled peers: %v", base, limit)
	for range 4 {
		if c := e.connect(stalled); c != nil {
			e.pipeline(c, e.option(1), 500)
		}
	}
	if f := e.connect(flooder); f != nil {
		e.pipeline(f, e.option(2), 2000)
	}
	// The first votes fill the stalled clients' buffers with tallies; the
	// last ones are measured. A server that makes each vote wait for its
	// stalled peers is found before the end: waiting out every slow vote
	// would only make the check slow.
	const fill, slowMax = 50, 10
	var busy []time.Duration
	slow := 0
	for i := range fill + votes {
		d, ok := timed()
		if !ok {
			return
		}
		if d > limit {
			slow++
		}
		if slow == slowMax {
			e.violate(propIsolation, "%d of %d votes took over %v with stalled peers (median alone %v)", slow, i+1, limit, base)
			return
		}
		if i >= fill {
			busy = append(busy, d)
		}
	}
	m := median(busy)
	e.logf("median ack latency with 4 stalled clients and a flooder: %v", m)
	if m > limit {
		e.violate(propIsolation, "median ack latency %v with stalled peers, %v without (limit %v)", m, base, limit)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// bounded checks that the server's memory does not grow with the votes it
// owes stalled clients, and that a client flooding requests without reading
// replies is evicted or pushed back.
func bounded(e *env) {
	for range 3 {
		e.connect(stalled)
	}
	pump := e.connect(healthy)
	if pump == nil || e.stuck() {
		return
	}
	pump.quiet.Store(true) // keep the harness's own memory flat while measuring
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	const batch, rounds = 250, 10
	pumpVotes := func() bool {
		for range rounds {
			if err := pump.send(e.requests(pump, e.option(0), batch)); err != nil {
				e.violate(propProgress, "%v could not send votes: %v", pump, err)
				return false
			}
			e.noteSent(e.option(0), batch)
			for range batch {
				if !e.expectOK(pump, e.option(0)) {
					return false
				}
			}
		}
		return true
	}
	if !pumpVotes() {
		return
	}
	before := heap()
	if !pumpVotes() {
		return
	}
	after := heap()
	growth := int64(after) - int64(before)
	e.logf("heap %d → %d bytes over %d votes with 3 stalled clients", before, after, batch*rounds)
	// An unbounded queue holds a tally line per vote per stalled client:
	// 7,500 of them per measurement here, half a megabyte or more.
	if limit := int64(256 << 10); growth > limit {
		e.violate(propBounded, "heap grew by %d bytes while %d votes were pushed to 3 stalled clients (limit %d)", growth, batch*rounds, limit)
	}
	e.flood()
	if e.cfg.adapter == nil {
		e.floodLine()
	}
}

// floodLine sends a line that goes on far past the protocol's 256-byte
// limit. The server must answer ERR line-too-long while the line is still
// coming: one that waits for the end of the line is buffering it without
// bound.
func (e *env) floodLine() {
	c := e.connect(healthy)
	if c == nil {
		return
	}
	e.logf("%v sends a line that never ends", c)
	chunk := []byte(strings.Repeat("x", 4096))
	_ = c.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
	_, _ = c.conn.Write([]byte("VOTE "))
	for range 16 { // 64 KiB: the server may read and drop it, or stop reading
		if _, err := c.conn.Write(chunk); err != nil {
			break
		}
	}
	c.closed = true
	m, err := c.await(e.ctx)
	switch {
	case err != nil:
		e.violate(propBounded, "a line of 64 KiB and more, still unfinished, got no answer: %v", err)
	case m.Kind != wire.MsgErr || m.Code != wire.CodeLineTooLong:
		e.violate(propBounded, "a line of 64 KiB and more got %v %s, want ERR line-too-long", m.Kind, m.Code)
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

// flood sends FloodBytes of votes without reading a reply. The server must
// stop reading (the write blocks: TCP backpressure) or close the connection;
// a server that reads it all is queueing the replies without bound.
func (e *env) flood() {
	f := e.connect(flooder)
	if f == nil {
		return
	}
	opt := e.option(2)
	chunk := []byte(e.requests(f, opt, 1000))
	before := f.conn.Stats().Written
	pushed := e.pushedBack(f, chunk)
	e.noteSent(opt, int(f.conn.Stats().Written-before)/(len(opt)+6))
	if !pushed {
		e.violate(propBounded, "a client sent %d bytes of votes without reading any reply, and the server neither evicted it nor stopped reading", e.cfg.floodSize)
	}
}

// String returns the property's name.
func (p property) String() string { return fmt.Sprintf("property(%s)", p.name) }

// debugTrace, set by STALLPROOF_TRACE=1, logs every check's report, passing
// ones too (rapid shows them with -rapid.v): for seeing what a scenario did.
var debugTrace = os.Getenv("STALLPROOF_TRACE") != ""
