package properties

import (
	"fmt"
	"os"
	"slices"
	"time"

	"pgregory.net/rapid"
)

// Property names, as subtests of Run and arguments of Properties.
const (
	propProgress    = "progress"
	propDelivery    = "delivery"
	propConsistency = "consistency"
	propIsolation   = "isolation"
	propBounded     = "bounded"
	propHalfClose   = "halfclose"
	propLeaks       = "leaks"

	// propProtocol is not a property: a violation of it means the server
	// broke the protocol's description (a reply to no request). It cuts a
	// scenario short like any violation.
	propProtocol = "protocol"
)

func allProps() []string {
	return []string{propProgress, propDelivery, propConsistency, propIsolation, propBounded, propHalfClose, propLeaks}
}

// property is one invariant and the scenarios that probe it.
type property struct {
	name  string
	kinds []kind // kinds of client a scenario may start with or connect
	ops   []op
	v1    bool // needs protocol v1 (it knows the votes)
	// extra runs after the scenario, before the final audit (nil: none).
	extra func(e *env)
	// finish runs after the final audit (nil: none), even when another
	// property's violation cut the scenario short.
	finish func(e *env)
}

var properties = map[string]property{
	propProgress: {
		name:  propProgress,
		kinds: []kind{healthy, healthy, fragmenter, garbler, stalled, trickler, flooder, slowloris},
		ops: []op{opRequest, opRequest, opRequest, opQuery, opStall, opResume, opFlood, opAcceptErrors,
			opConnect, opConnect, opDisconnect, opReset, opGarbage, opParallel},
		extra: pressure,
	},
	propDelivery: {
		name:  propDelivery,
		kinds: []kind{healthy, healthy, fragmenter, stalled, trickler, flooder},
		ops:   []op{opRequest, opRequest, opParallel, opStall, opResume, opConnect, opConnect, opDisconnect, opReset},
		extra: delivery,
	},
	propConsistency: {
		name:  propConsistency,
		kinds: []kind{healthy, healthy, fragmenter, garbler, stalled, trickler},
		ops:   []op{opRequest, opRequest, opParallel, opParallel, opQuery, opStall, opResume, opConnect, opDisconnect, opGarbage},
		v1:    true,
		extra: burst,
	},
	propIsolation: {
		name:  propIsolation,
		kinds: []kind{healthy, fragmenter},
		ops:   []op{opRequest, opQuery, opConnect},
		extra: isolation,
	},
	propBounded: {
		name:  propBounded,
		kinds: []kind{healthy, stalled, flooder},
		ops:   []op{opRequest, opStall, opFlood, opConnect},
		extra: bounded,
	},
	propHalfClose: {
		name:  propHalfClose,
		kinds: []kind{healthy, healthy, stalled},
		ops:   []op{opRequest, opHalfClose, opHalfClose, opReset, opParallel, opConnect},
		v1:    true,
		extra: partingsV1,
	},
	propLeaks: {
		name:   propLeaks,
		kinds:  []kind{healthy, stalled, flooder, trickler, slowloris},
		ops:    []op{opRequest, opConnect, opDisconnect, opReset, opHalfClose, opStall, opFlood},
		finish: leaks,
	},
}

// check runs one scenario of p against serve and fails t if p is violated,
// if another violation cut the scenario short, or if the scenario
// exercised nothing.
func check(t *rapid.T, cfg *config, p property, serve ServeFunc) {
	e := newEnv(t, cfg, p.name, serve)
	kinds, ops := kindsFor(&e.proto, p.kinds), opsFor(&e.proto, p.ops)
	if !e.target.listens() {
		ops = slices.DeleteFunc(ops, func(o op) bool { return o == opAcceptErrors })
	}
	if e.target != nil && e.target.addr == "" && e.target.dial != nil {
		ops = slices.DeleteFunc(ops, func(o op) bool { return o == opHalfClose })
	}
	var finished bool
	defer func() {
		if !finished {
			e.shutdown()
		}
		e.lag.close()
		e.verdict(p)
	}()
	if p.name == propLeaks {
		e.warmUp()
	}
	n := rapid.IntRange(1, 4).Draw(t, "clients")
	for i := range n {
		k, r := healthy, e.requester() // someone is always owed answers
		if i > 0 {
			k = rapid.SampledFrom(kinds).Draw(t, "kind")
			r = e.roleNamed(e.drawRole(t))
		}
		if e.connect(k, r); e.stuck() {
			return
		}
	}
	steps := rapid.IntRange(0, cfg.maxSteps).Draw(t, "steps")
	e.steps = steps
	for i := range steps {
		if e.do(e.drawAction(t, ops, kinds)); e.stuck() {
			// Draw the steps left, unrun, so that a fail file holds a
			// whole scenario: replayed against a server that does not
			// stop here, it still has every step to run.
			for range steps - i - 1 {
				e.drawAction(t, ops, kinds)
			}
			return
		}
	}
	if p.extra != nil && !e.stuck() {
		p.extra(e)
	}
	if !e.stuck() && !e.serveReturned() && e.v1 != nil {
		e.audit()
	}
	if p.finish != nil && !e.serveReturned() {
		p.finish(e)
		finished = true
	}
}

// verdict fails the check: with the report of p's own violation; or, if
// another property's violation cut the scenario short, with that one, for
// p was not checked; or if nothing was exercised.
func (e *env) verdict(p property) {
	t := e.t
	if debugTrace {
		t.Log(e.report(p.name, "(trace)"))
	}
	if v, ok := e.violated(p.name); ok {
		e.fail(p.name, v, e.class(p.name))
		return
	}
	if prop, v, ok := e.firstViolation(); ok {
		e.fail(prop, fmt.Sprintf("%s could not be checked: the scenario was cut short by a %s violation: %s", p.name, prop, v),
			fmt.Sprintf("cut short by %s: %s", prop, e.class(prop)))
		return
	}
	e.cfg.noteCheck(p.name)
	if why := e.inconclusiveReason(); why != "" {
		e.cfg.noteInconclusive(p.name, why)
		return
	}
	e.mu.Lock()
	answered := e.answered
	e.mu.Unlock()
	pushes := 0
	for _, c := range e.clientList() {
		pushes += c.pushCount()
	}
	if answered == 0 && pushes == 0 {
		const nothing = "the check exercised nothing: no request was answered and no push delivered"
		e.fail(p.name, nothing, nothing)
	}
}

// fail reports a failed check: the whole report is logged (rapid prints it
// once, for the shrunk scenario), and the check fails with the class of
// the violation, which stays the same from run to run so that rapid can
// shrink it.
func (e *env) fail(prop, msg, class string) {
	rep := e.report(prop, msg)
	e.cfg.noteFailure(e.prop, failure{prop: prop, msg: msg, report: rep, data: e.reportData(prop, msg)})
	e.t.Log(rep)
	e.t.Fatalf("%s violated: %s", e.prop, class)
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i] + " ..."
		}
	}
	return s
}

func (e *env) clientList() []*client {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.clients)
}

// pressure ends a progress scenario with a burst of accept errors, then a
// stalled subscriber connected and enough concurrent requests to fill its
// buffer many times over: an accept loop that gives up on EMFILE, or a
// server that blocks on one client's Write, fails here whatever the
// scenario before.
func pressure(e *env) {
	role := e.subscriber()
	if role == nil {
		role = e.requester()
	}
	if e.failAccepts(3) {
		e.logf("pressure: the next 3 Accepts fail with EMFILE; a client connects")
		if e.connect(healthy, e.requester()); e.stuck() {
			return
		}
	}
	st := e.connect(stalled, role)
	if e.stuck() {
		return
	}
	if req := e.requester(); role != req && role.Subscribes && e.target != nil && e.target.addr != "" {
		// A healthy subscriber too: what it is pushed tells pressure
		// that the server pushes per request, and so that the stalled
		// one is owed as much, while the suite waits for the server's
		// writes to it to block.
		if e.connect(healthy, role); e.stuck() {
			return
		}
	}
	owedRequester := false
	for _, c := range e.clientList() {
		owedRequester = owedRequester || (owed(c) && e.makesRequests(c.role))
	}
	if !owedRequester {
		e.connect(healthy, e.requester())
	}
	e.pushUntilBlocked(st)
}

// pushUntilBlocked is pressure's burst: every healthy client sends 200
// requests at once, twice at least. Against a server reached over TCP,
// it goes on until the kernel shows the server's writes to the stalled
// client st blocked, then until afterBlocked more bytes were pushed to a
// healthy client: past the kernel, a server may queue in its own memory
// before its code waits (asyncio's writer, 64 KiB), and must go on
// serving with a blocked client all the same. All that as long as the
// server pushes something per request (a conflating server pushes far
// less, and may never block), within 60 s (5 s in a shrink attempt) and
// 2,000 rounds. That is cheap when the server's buffers are small (the
// suite shrank them, or RunExec's namespace did), so every check does it;
// with the kernel's 4 MiB buffers, only the first check of a property
// does. And the first check of each property goes on until
// target.deepPush bytes reached a healthy client (5 MiB; 512 KiB under
// RunExec), even when the kernel shows the server blocked sooner: the
// socket the suite sees may be a proxy's, with a server behind it whose
// own buffers hold megabytes, and a runtime may buffer in user space.
// Without a view of the server's sockets, that push is all there is, a
// guess that the report states.
func (e *env) pushUntilBlocked(st *client) {
	kv := e.target.kernel()
	small := e.target.smallSocketBuffers()
	budget := e.target.deepPush()
	deep := budget > 0 && e.cfg.firstTime(e.prop, "deep push")
	watch := kv.exact() && st != nil && (small || deep)
	guess := !watch && deep
	switch {
	case watch && deep:
		e.logf("pressure: %v stalls; every healthy client sends 200 requests at once, until the server's writes to it block and %d KiB were pushed to a healthy client (a proxy may stand before the server; its runtime may buffer)", st, budget>>10)
	case watch:
		e.logf("pressure: %v stalls; every healthy client sends 200 requests at once, until the server's writes to it block, and 256 KiB more", st)
	case guess:
		why := "the server's socket buffers"
		if kv != nil && kv.why != "" {
			why = kv.why
		}
		e.logf("pressure: a client stalls; every healthy client sends 200 requests at once, and on until %d KiB were pushed to a healthy client (a guess: %s)", budget>>10, why)
	default:
		e.logf("pressure: a client stalls; every healthy client sends 200 requests at once, twice")
	}
	limit := 60 * time.Second
	if e.cfg.shrinking(e.prop) {
		// A shrink attempt that freezes the server does so as soon as
		// the buffers fill; one that does not would push for long.
		limit = 5 * time.Second
	}
	until := time.Now().Add(limit)
	pushed0 := e.healthyPushed()
	blockedAt := int64(-1) // healthy push bytes when st was seen blocked
	for i := 0; ; i++ {
		before, n := e.healthyPushed(), e.parallel(200)
		if e.stuck() {
			return
		}
		now := e.healthyPushed()
		pushing := now-before >= int64(n) && i < 2000 && time.Now().Before(until)
		more := false
		switch {
		case watch && blockedAt < 0 && (e.serverBlocked(st) || e.serverLetGo(st)):
			blockedAt = now
			more = true
		case watch && blockedAt < 0:
			more = pushing
		case watch:
			more = pushing && (now-blockedAt < afterBlocked || deep && now-pushed0 < budget)
		case guess:
			more = pushing && now-pushed0 < budget
		}
		if i >= 1 && !more {
			e.logf("pressure: %d rounds; %d bytes pushed to a healthy client; the server's writes to the stalled client blocked: %s",
				i+1, now-pushed0, map[bool]string{true: "yes", false: "not seen"}[st != nil && st.serverBlockedAt.Load() != 0])
			return
		}
	}
}

// afterBlocked is how much pressure pushes to a healthy client after the
// kernel showed the server's writes to a stalled client blocked: four
// times what asyncio's writer buffers before drain() waits.
const afterBlocked = 256 << 10

// healthyPushed returns the most push bytes any owed client has received.
func (e *env) healthyPushed() int64 {
	var most int64
	for _, c := range e.clientList() {
		if owed(c) {
			c.mu.Lock()
			most = max(most, c.pushBytes)
			c.mu.Unlock()
		}
	}
	return most
}

// warmUp connects a client that makes a request and leaves before the
// scenario, so that the goroutines a server starts once, lazily, are in
// the baseline of the leak check.
func (e *env) warmUp() {
	c := e.connect(healthy, e.requester())
	if c == nil || e.stuck() {
		return
	}
	e.request(c, 0)
	c.closed = true
	c.close()
	<-c.done
	e.warm = goleakCurrent()
	e.logf("warm-up done")
}

// isolation compares a healthy client's answer latency without and with
// stalled and flooding peers, measured in the same check. A server that
// stops answering fails progress, and so this check too: a frozen server
// is never isolated.
func isolation(e *env) {
	const reqs = 30 // per measurement
	c := e.connect(healthy, e.requester())
	if c == nil || e.stuck() {
		return
	}
	timed := func() (time.Duration, bool) {
		start := time.Now()
		e.request(c, 0)
		return time.Since(start), !e.stuck()
	}
	calm := make([]time.Duration, 0, reqs)
	for range reqs {
		d, ok := timed()
		if !ok {
			return
		}
		calm = append(calm, d)
	}
	base := median(calm)
	limit := 20*base + 50*time.Millisecond
	e.logf("median answer latency alone: %v; limit with stalled peers: %v", base, limit)
	role := e.subscriber()
	if role == nil {
		role = e.requester()
	}
	for range 4 {
		s := e.connect(stalled, role)
		switch {
		case s == nil:
		case e.target.kernel().exact() && e.makesRequests(s.role) && s.lib == nil:
			// Spliced to a real socket: its replies must fill the
			// splice and both socket buffers before the server's writes
			// block; request until the kernel shows they do.
			e.pipelineUntilBlocked(s, 16<<20)
		default:
			e.pipeline(s, 1, 500)
			if e.target.smallSocketBuffers() && e.makesRequests(s.role) && s.lib == nil && e.cfg.firstTime(e.prop, "deep push") {
				// Socket buffers on both sides of the namespace's sockets,
				// and the server's runtime, hold tens of kilobytes of
				// answers: in the first check, fill them too.
				e.pipelineUntilBlocked(s, 256<<10)
			}
		}
	}
	if f := e.connect(flooder, e.requester()); f != nil {
		e.pipeline(f, 2, 2000)
	}
	// The first requests fill the stalled clients' buffers; the last ones
	// are measured. A server that makes each request wait for its stalled
	// peers is found before the end: waiting out every slow request would
	// only make the check slow.
	const fill, slowMax = 50, 10
	var busy []time.Duration
	slow := 0
	for i := range fill + reqs {
		d, ok := timed()
		if !ok {
			return
		}
		if d > limit {
			slow++
		}
		if slow == slowMax {
			e.violate(propIsolation, "%d of %d requests took over %v with stalled peers (median alone %v)", slow, i+1, limit, base)
			return
		}
		if i >= fill {
			busy = append(busy, d)
		}
	}
	m := median(busy)
	e.logf("median answer latency with 4 stalled clients and a flooder: %v", m)
	if m > limit {
		e.violate(propIsolation, "median answer latency %v with stalled peers, %v without (limit %v)", m, base, limit)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// String returns the property's name.
func (p property) String() string { return fmt.Sprintf("property(%s)", p.name) }

// debugTrace, set by STALLPROOF_TRACE=1, logs every check's report, passing
// ones too (rapid shows them with -rapid.v): for seeing what a scenario did.
var debugTrace = os.Getenv("STALLPROOF_TRACE") != ""
