package properties

import (
	"fmt"
	"os"
	"slices"

	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/properties/internal/stacks"
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

// allProps is every property, in the order a Run checks them, so that a
// broken server is told soon: progress first (it finds a frozen server,
// and the rest of the Run then fails at once), isolation next (a server
// slow on every write fails it in a second; it took 17 s to pass delivery
// and four minutes to pass bounded), bounded then (a queue that grows
// fails its first check, and slows every later property while it grows),
// then the other cheap ones, and the costly delivery and leaks last.
func allProps() []string {
	return []string{propProgress, propIsolation, propBounded, propConsistency, propHalfClose, propDelivery, propLeaks}
}

// property is one invariant and the scenarios that probe it.
type property struct {
	name  string
	kinds []kind // kinds of client a scenario may start with or connect
	ops   []op
	v1    bool // needs protocol v1 (it knows the votes)
	// alone says why the property's checks run with no other
	// property's beside them ("": they may; sidebyside.go).
	alone string
	// extra runs after the scenario, before the final audit (nil: none).
	extra func(e *env)
	// finish runs after the final audit (nil: none), even when another
	// property's violation cut the scenario short.
	finish func(e *env)
}

var properties = map[string]property{
	propProgress: {
		name:  propProgress,
		alone: "it runs first, and alone, so that a frozen server is told at once",
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
		alone: "it compares a client's latencies",
		kinds: []kind{healthy, fragmenter},
		ops:   []op{opRequest, opQuery, opConnect},
		extra: isolation,
	},
	propBounded: {
		name:  propBounded,
		alone: "it measures the process's heap",
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
	if tt := cfg.virtualFor(p.name); tt != nil {
		checkInBubble(tt, t, cfg, p, serve)
		return
	}
	runCheck(t, cfg, p, serve, nil)
}

// runCheck is check, on the clock of the calling goroutine: in real time,
// or, with a watch, in virtual time inside the watched bubble.
func runCheck(t *rapid.T, cfg *config, p property, serve ServeFunc, w *watch) {
	e := newEnv(t, cfg, p.name, serve)
	if w != nil {
		e.virtual = true
		w.env.Store(e)
	}
	kinds, ops := kindsFor(&e.proto, p.kinds), opsFor(&e.proto, p.ops)
	if !e.target.listens() {
		ops = slices.DeleteFunc(ops, func(o op) bool { return o == opAcceptErrors })
	}
	if e.target != nil && e.target.addr == "" && e.target.dial != nil {
		ops = slices.DeleteFunc(ops, func(o op) bool { return o == opHalfClose })
	}
	var finished bool
	defer func() {
		r := recover()
		if !finished {
			e.shutdown()
		}
		e.lag.close()
		if e.abandoned.Load() {
			return // the Run went on without this check: nothing to say
		}
		if r != nil {
			// rapid ran out of data to draw from (a shrink attempt cut
			// the scenario short), or the harness failed: no verdict on
			// a scenario that did not run. With a violation seen, the
			// verdict stands: it fails the check in the panic's stead.
			if _, _, violated := e.firstViolation(); !violated {
				panic(r)
			}
			e.failPath = "panicking"
		}
		e.verdict(p)
	}()
	if p.name == propLeaks {
		e.warmUp()
	}
	// Once the check is stuck, the rest of the scenario is drawn, unrun,
	// so that a fail file, and the shrunk failure rapid replays at the
	// end, hold a whole scenario: replayed against a server that does not
	// stop at the same place, it still has every step to run (without
	// them, rapid's replay ends in "invalid data: overrun").
	n := rapid.IntRange(1, 4).Draw(t, "clients")
	for i := range n {
		if e.abandoned.Load() {
			return // rapid is elsewhere
		}
		k, r := healthy, e.requester() // someone is always owed answers
		if i > 0 {
			k = rapid.SampledFrom(kinds).Draw(t, "kind")
			r = e.roleNamed(e.drawRole(t))
		}
		if !e.stuck() {
			e.connect(k, r)
		}
	}
	if e.abandoned.Load() {
		return
	}
	steps := rapid.IntRange(0, cfg.maxSteps).Draw(t, "steps")
	e.steps = steps
	for range steps {
		if e.abandoned.Load() {
			return // rapid is elsewhere
		}
		if a := e.drawAction(t, ops, kinds); !e.stuck() {
			e.do(a)
		}
	}
	if e.stuck() {
		return
	}
	if p.extra != nil {
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
		e.fail("own", p.name, v, e.class(p.name))
		return
	}
	if prop, v, ok := e.firstViolation(); ok {
		e.fail("cut", prop, fmt.Sprintf("%s could not be checked: the scenario was cut short by a %s violation: %s", p.name, prop, v),
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
		e.fail("nothing", p.name, nothing, nothing)
	}
}

// fail reports a failed check: the whole report is logged (rapid prints it
// once, for the shrunk scenario), and the check fails with the class of
// the violation, which stays the same from run to run so that rapid can
// shrink it.
//
// site names the caller's line, which, with e.failPath, tells one failure's
// traceback from another's, as rapid does (shrinkguard.go).
func (e *env) fail(site, prop, msg, class string) {
	rep := e.report(prop, msg)
	e.cfg.noteFailure(e.prop, failure{prop: prop, msg: msg, report: rep, data: e.reportData(prop, msg), site: e.failSite(site)})
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
	e.warm, e.warmIDs = goleakCurrent(), stacks.IDs()
	e.logf("warm-up done")
}

func (p property) String() string { return fmt.Sprintf("property(%s)", p.name) }

// debugTrace, set by STALLPROOF_TRACE=1, logs every check's report, passing
// ones too (rapid shows them with -rapid.v): for seeing what a scenario did.
var debugTrace = os.Getenv("STALLPROOF_TRACE") != ""
