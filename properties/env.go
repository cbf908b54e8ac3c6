package properties

import (
	"context"
	"fmt"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties/internal/stacks"
	"github.com/stallproof/stallproof/properties/report"
)

// env is the world of one check: a server under test on a fresh listener,
// the clients the scenario made, and what the harness saw.
type env struct {
	t     *rapid.T
	cfg   *config
	proto Protocol
	prop  string
	serve ServeFunc
	start time.Time
	bound time.Duration // cfg.bound, or a shorter probe bound while shrinking
	v1    *v1State      // protocol v1 only
	// virtual: the check runs in a synctest bubble, where work takes no
	// time: a loop that waits for time to pass must pause.
	virtual bool
	// abandoned: the watchdog gave up this check's bubble, and rapid went
	// on without it. Should the bubble ever wake, the check ends at its
	// next step and says nothing to rapid or to the Run.
	abandoned atomic.Bool
	// ticks orders the check's events: requests sent, greetings and
	// pushes received. Clocks cannot: in a bubble, a push may arrive at
	// the very instant its publish was sent.
	ticks atomic.Int64

	target  *target // nil: the suite's listener, served by serve
	splices splices

	ln       *faultnet.Listener
	ctx      context.Context
	cancel   context.CancelFunc
	serveEnd chan struct{}   // closed when Serve returns
	lag      *lagMonitor     // time stolen from the harness, added to its waits
	baseline goleak.Option   // goroutines before the server started
	before   map[string]bool // their IDs
	warm     goleak.Option   // goroutines after a warm-up client came and went
	warmIDs  map[string]bool // their IDs
	// label is the value of the harness.ServerLabel profiler label on the
	// goroutines of the Serve call the check started ("": the suite
	// started none, or dumps show no labels), which tells them from its
	// clients' and other checks' beside it.
	label string
	// failPath is how the check's failure reaches rapid, when not
	// straight from its verdict: "panicking" (rapid's own panic was in
	// flight), "watchdog" (a given-up bubble's verdict); see failSite.
	failPath string
	stacks   string         // server goroutines when the first violation was seen
	groups   []report.Stack // the same, as data

	mu         sync.Mutex
	clients    []*client
	violations map[string]string // property → first violation
	classes    map[string]string // property → its first violation's format: what kind of violation
	order      []string          // properties in the order of their first violation
	violatedAt time.Duration
	trace      []traceStep // what the driver did, for the report
	steps      int         // actions drawn for this scenario
	serveErr   error
	serveEnded bool
	answered   int    // requests answered, over all clients
	replyCount int    // replies whose size was counted, and their bytes:
	replyBytes int64  // the flood's measure of what a request owes
	inconc     string // why the check was inconclusive (inconclusive.go), or ""

	newest atomic.Int64 // the newest version any client was pushed (Protocol.Version), -1 if none
	pubs   []publish
}

// traceStep is one step of the scenario, as the report shows it.
type traceStep struct {
	at   time.Duration
	text string
}

// publish is one answered request of a role that publishes.
type publish struct {
	by   int   // client id
	sent int64 // the tick before the request was written
}

func newEnv(t *rapid.T, cfg *config, prop string, serve ServeFunc) *env {
	e := &env{
		t: t, cfg: cfg, proto: cfg.proto, prop: prop, serve: serve, start: time.Now(), bound: cfg.boundFor(prop),
		violations: map[string]string{},
		classes:    map[string]string{},
		serveEnd:   make(chan struct{}),
	}
	e.newest.Store(-1)
	if e.proto.v1 {
		e.v1 = newV1State(e)
	}
	e.lag = startLagMonitor()
	e.baseline = goleak.IgnoreCurrent()
	e.before = stacks.IDs()
	e.target = cfg.target
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if !e.target.listens() {
		go func() { // no Serve to return: it "returns" when the suite is done, or its process exits
			select {
			case <-e.ctx.Done():
			case <-e.target.exited: // nil, and never ready, but for RunExec
				e.mu.Lock()
				e.serveErr, e.serveEnded = e.target.exitErr(), true
				e.mu.Unlock()
			}
			close(e.serveEnd)
		}()
		return e
	}
	switch cfg.transport {
	case LoopbackTCP:
		ln, err := faultnet.ListenTCP("127.0.0.1:0", faultnet.SocketBufferSize(cfg.bufSize), faultnet.Name("tcp"))
		if err != nil {
			t.Fatalf("listen on loopback: %v", err)
		}
		e.ln = ln
	default:
		e.ln = faultnet.Listen(faultnet.BufferSize(cfg.bufSize), faultnet.Name("mem"))
	}
	ctx := e.ctx
	if cfg.labels {
		e.label = fmt.Sprintf("%s#%d", prop, serveSerial.Add(1))
		// Serve's context carries the label too, so that a server that
		// labels its own goroutines from it (pprof.Do) keeps the suite's.
		ctx = pprof.WithLabels(e.ctx, pprof.Labels(harness.ServerLabel, e.label))
		// Serve's context is cancelled under the server's label, in a
		// goroutine of its own (the check's keeps its client label): a
		// function the server hung on it with context.AfterFunc runs in
		// a goroutine of the cancelling one's, and is the server's.
		cancel := e.cancel
		e.cancel = func() {
			done := make(chan struct{})
			go harness.Labelled(harness.ServerLabel, e.label, func() {
				cancel()
				close(done)
			})
			<-done
		}
	}
	go labelled(e.label != "", harness.ServerLabel, e.label, func() {
		defer cfg.serveEnds(e.label) // however Serve ends (runtime.Goexit too)
		err := e.serve(ctx, e.ln)
		e.mu.Lock()
		e.serveErr, e.serveEnded = err, true
		e.mu.Unlock()
		close(e.serveEnd)
	})
	return e
}

// labelled runs f under the profiler label key=value if on, else as it
// is.
func labelled(on bool, key, value string, f func()) {
	if on {
		harness.Labelled(key, value, f)
		return
	}
	f()
}

// owner is how stacks tells this check's server's goroutines: by its own
// label, side by side; by any server's, one property at a time (a server
// whose Serve calls share a worker may run it under an earlier call's
// label); by none when labels cannot be seen. Side by side, a goroutine
// labelled as a Serve call's that returned before this check began counts
// too (one that returns meanwhile is another check's, winding down); and,
// either way, one started by a hub that the test calling Run started.
func (e *env) owner() stacks.Owner {
	switch {
	case e.label == "":
		return stacks.Owner{}
	case e.cfg.side:
		return stacks.Owner{Label: e.label, Test: e.cfg.runTest(), Live: func(l string) bool { return e.cfg.servingSince(l, e.start) }}
	}
	return stacks.Owner{Label: stacks.AnyServer, Test: e.cfg.runTest()}
}

// serveSerial numbers the Serve calls of the process, for their labels.
var serveSerial atomic.Int64

// tick returns the next tick of the check's event order.
func (e *env) tick() int64 { return e.ticks.Add(1) }

// logf records a step of the scenario.
func (e *env) logf(format string, args ...any) {
	text := e.inMemoryNames(fmt.Sprintf(format, args...))
	e.mu.Lock()
	e.trace = append(e.trace, traceStep{time.Since(e.start), text})
	e.mu.Unlock()
}

// memAddrs is the pair of addresses in the text of an error of an
// in-memory connection, which look like a TCP socket's.
var memAddrs = regexp.MustCompile(`tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+`)

// inMemoryNames names the in-memory connections in s as such: their
// errors say "write tcp 127.0.0.1:20001->127.0.0.1:20002", as a socket's
// would, which in a report reads as if the suite had used TCP.
func (e *env) inMemoryNames(s string) string {
	if e.cfg.transport != InMemory || !e.target.listens() {
		return s
	}
	return memAddrs.ReplaceAllString(s, "in-memory connection")
}

// violate records a broken invariant of property prop. The first violation
// of each property is kept; at the first violation of the check, the
// server's goroutines are captured at once, while they are still stuck.
func (e *env) violate(prop, format string, args ...any) {
	if e.abandoned.Load() {
		return
	}
	msg := e.inMemoryNames(fmt.Sprintf(format, args...))
	if e.target != nil && e.target.exited != nil {
		// A server process that died is reaped a moment after its
		// clients see their connections end: wait that moment (at most
		// 200 ms), so that the violation says why.
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-e.serveEnd:
		case <-t.C:
		}
		t.Stop()
	}
	if why := e.serveEndedEarly(); why != "" && prop == propProgress && !strings.HasPrefix(msg, why) {
		msg = why + "; and so " + msg // the cause first
	}
	e.mu.Lock()
	_, seen := e.violations[prop]
	capture := len(e.violations) == 0
	if !seen {
		e.violations[prop] = msg
		e.classes[prop] = violationClass(format)
		e.order = append(e.order, prop)
		if capture {
			e.violatedAt = time.Since(e.start)
		}
	}
	e.mu.Unlock()
	if !seen {
		e.cfg.noteViolation(e.prop, prop, msg, e.virtual)
	}
	if capture && e.target.inProcess() {
		groups, s := stacks.Server(e.before, e.owner())
		e.mu.Lock()
		e.stacks, e.groups = s, groups
		e.mu.Unlock()
	}
	e.logf("VIOLATION (%s): %s", prop, msg)
}

func (e *env) violated(prop string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.violations[prop]
	return v, ok
}

// firstViolation returns the first violation of the check, of any property.
func (e *env) firstViolation() (prop, msg string, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.order) == 0 {
		return "", "", false
	}
	return e.order[0], e.violations[e.order[0]], true
}

// stuck reports whether the check must stop: any violation cuts the
// scenario short (later steps would wait out the bound again, or build on
// a broken state), and so does a Serve that returned, or a harness that
// could not keep up (inconclusive).
func (e *env) stuck() bool {
	if e.abandoned.Load() {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.violations) > 0 || e.inconc != ""
}

// dialConn makes one connection to the server under test.
func (e *env) dialConn(ctx context.Context) (*faultnet.Conn, error) {
	if !e.target.listens() {
		return e.dialSpliced(ctx)
	}
	return e.ln.Dial(ctx)
}

// failAccepts makes the next n Accepts fail with EMFILE, when the suite
// owns the listener; it reports whether it could.
func (e *env) failAccepts(n int) bool {
	if !e.target.listens() {
		e.skipPhase(fmt.Sprintf("acceptErrors(%d)", n), fmt.Sprintf("%v has no listener of the suite's", e.target))
		return false
	}
	e.ln.FailAccepts(n)
	return true
}

// closeListener closes the suite's listener and ends every splice.
func (e *env) closeListener() {
	if e.ln != nil {
		_ = e.ln.Close()
	}
	e.closeSplices()
}

// dial connects a new client of kind k and role r, writes its hello and
// starts its reader (on the wire), or has the protocol's Connect make it.
func (e *env) dial(k kind, r *Role) (*client, error) {
	e.mu.Lock()
	c := newClient(e, len(e.clients), k, r)
	e.clients = append(e.clients, c)
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(e.ctx, e.bound)
	defer cancel()
	if e.proto.Connect != nil {
		return c, e.connectLib(ctx, c)
	}
	conn, err := e.dialConn(ctx)
	if err != nil {
		c.finish()
		return c, err
	}
	c.adopt(conn)
	w := startWire(c)
	if r.Hello != nil {
		if h := r.Hello(c.id); len(h) > 0 {
			c.mark("request", h)
			if err := w.send(h, 0); err != nil {
				return c, fmt.Errorf("writing its hello %q: %w", h, err)
			}
		}
	}
	return c, nil
}

// awaitGreeting waits for a client's greeting; a missing one is a progress
// violation.
func (e *env) awaitGreeting(c *client) bool {
	if !e.within(c.greeted) {
		e.violate(propProgress, "%v was not greeted within %v (last messages %q)", c, e.bound, c.lastLines())
		return false
	}
	if c.isGreeted() {
		return true
	}
	c.mu.Lock()
	instead, err := c.greetErr, c.readErr
	c.mu.Unlock()
	if instead != "" {
		e.violate(propProgress, "%v got %q instead of the greeting", c, instead)
	} else {
		e.violate(propProgress, "%v was not greeted: the connection ended: %v", c, err)
	}
	return false
}

// shutdown cancels the server's context and waits, within the bound, for
// Serve to return; then it closes every client. The leaks property
// checks a shutdown with clients connected; the others, and every check
// after a violation, close the clients first: a server frozen on a
// client's Write is set free by the close, a shrink attempt does not wait
// out the bound again, and a server that drains its replies to a stalled
// client for a while before it returns (the reference's DrainTimeout)
// does not make every check wait that long.
//
// A Serve that does not return is a violation of leaks only, which checks
// shutdowns: the other properties note the hang on their verdicts and are
// judged on their own scenarios; once a hang was seen in the Run, their
// checks no longer wait for Serve to return.
func (e *env) shutdown() {
	if e.stuck() || e.prop != propLeaks {
		e.closeClients()
	}
	e.cancel()
	switch {
	case e.prop == propLeaks:
		if !e.within(e.serveEnd) {
			e.violate(propLeaks, "Serve did not return within %v of its context's end", e.bound)
		}
	case e.cfg.hung() == "":
		if !e.within(e.serveEnd) {
			e.cfg.noteHang(e.prop, fmt.Sprintf("Serve did not return within %v of its context's end (a failure of leaks, which checks shutdowns; later checks do not wait for it)", e.bound))
		}
	default:
		e.cfg.noteHang(e.prop, "Serve's return was not awaited: it hung before ("+e.cfg.hung()+")")
	}
	e.closeClients()
	e.closeListener()
}

// closeClients closes every client and waits for their readers.
func (e *env) closeClients() {
	e.mu.Lock()
	cs := slices.Clone(e.clients)
	e.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
	for _, c := range cs {
		<-c.done
	}
}

// within waits for ch to be closed, within the bound.
func (e *env) within(ch <-chan struct{}) bool {
	b := e.newBound()
	defer b.stop()
	for {
		select {
		case <-ch:
			return true
		case <-b.C():
			if b.expired() {
				return false
			}
		}
	}
}

// serveReturned reports whether Serve has returned; before the harness
// ended its context, that is a progress violation (an accept loop that gave
// up, a server that failed to start), with Serve's error verbatim.
func (e *env) serveReturned() bool {
	if why := e.serveEndedEarly(); why != "" {
		e.violate(propProgress, "%s", why)
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.serveEnded
}

// serveEndedEarly says how Serve returned while its context was live, or
// "" if it did not.
func (e *env) serveEndedEarly() string {
	select {
	case <-e.serveEnd:
	default:
		return ""
	}
	e.mu.Lock()
	err := e.serveErr
	e.mu.Unlock()
	if e.ctx.Err() != nil {
		return ""
	}
	if e.target != nil && e.target.exited != nil {
		return fmt.Sprintf("%v", err) // the command's exit, and its output
	}
	if err != nil {
		return fmt.Sprintf("Serve returned while its context was live, with error: %v", err)
	}
	return "Serve returned while its context was live, with a nil error"
}

// requestDesc says what a request was, in the protocol's words.
func requestDesc(b []byte) string {
	s := strings.TrimRight(string(b), "\r\n")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// violationClass turns a violation's format into a stable description of
// its kind, with every value left out: "%v: request %s not answered: %v"
// becomes "…: request … not answered: …". A failed check's error is that
// class, never the values: rapid shrinks only while a smaller scenario
// fails with the very same error, and seqs, timings and client numbers
// change from one run to the next.
func violationClass(format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		for i < len(format) && !strings.ContainsRune("vsqdxXfgeTtbcUop", rune(format[i])) {
			i++ // flags and widths
		}
		b.WriteString("…")
	}
	return b.String()
}

func (e *env) class(prop string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.classes[prop]
}
