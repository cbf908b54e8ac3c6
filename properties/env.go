package properties

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/wire"
)

// env is the world of one check: a server under test on a fresh listener,
// the clients the scenario made, and what the harness knows of the votes.
type env struct {
	t     *rapid.T
	cfg   *config
	prop  string
	serve ServeFunc
	start time.Time

	ln       *faultnet.Listener
	ctx      context.Context
	cancel   context.CancelFunc
	serveEnd chan struct{}   // closed when Serve returns
	lag      *lagMonitor     // time stolen from the harness, added to its waits
	baseline goleak.Option   // goroutines before the server started
	before   map[string]bool // their IDs
	warm     goleak.Option   // goroutines after a warm-up client came and went
	stacks   string          // server goroutines when the first violation was seen

	mu         sync.Mutex
	clients    []*client
	opts       []string
	sent       map[string]int    // complete VOTE lines written, per option
	ledger     *ledger           // acknowledged votes; set with the options
	violations map[string]string // property → first violation
	trace      []string          // what the driver did, for the report
	steps      int               // actions drawn for this scenario
	serveErr   error
	serveEnded bool
}

func newEnv(t *rapid.T, cfg *config, prop string, serve ServeFunc) *env {
	e := &env{
		t: t, cfg: cfg, prop: prop, serve: serve, start: time.Now(),
		sent:       map[string]int{},
		violations: map[string]string{},
		serveEnd:   make(chan struct{}),
	}
	e.lag = startLagMonitor()
	e.baseline = goleak.IgnoreCurrent()
	e.before = goroutineIDs()
	switch cfg.transport {
	case LoopbackTCP:
		ln, err := faultnet.ListenTCP("127.0.0.1:0", faultnet.KernelBuffers(cfg.bufSize), faultnet.Name("tcp"))
		if err != nil {
			t.Fatalf("listen on loopback: %v", err)
		}
		e.ln = ln
	default:
		e.ln = faultnet.Listen(faultnet.BufferSize(cfg.bufSize), faultnet.Name("mem"))
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	go func() {
		err := e.serve(e.ctx, e.ln)
		e.mu.Lock()
		e.serveErr, e.serveEnded = err, true
		e.mu.Unlock()
		close(e.serveEnd)
	}()
	return e
}

// logf records a step of the scenario.
func (e *env) logf(format string, args ...any) {
	e.mu.Lock()
	e.trace = append(e.trace, fmt.Sprintf("%6.3fs ", time.Since(e.start).Seconds())+fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

// violate records a broken invariant of property prop. The first violation
// of each property is kept; for the property under test, the server's
// goroutines are captured at once, while they are still stuck.
func (e *env) violate(prop, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.mu.Lock()
	_, seen := e.violations[prop]
	if !seen {
		e.violations[prop] = msg
		e.cfg.noteViolation(prop)
	}
	capture := !seen && prop == e.prop && e.stacks == ""
	e.mu.Unlock()
	if capture {
		s := serverStacks(e.before)
		e.mu.Lock()
		e.stacks = s
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

// stuck reports whether the server has already failed to answer in time:
// later steps would only wait out the bound again.
func (e *env) stuck() bool {
	_, ok := e.violated(propProgress)
	return ok
}

// learnOptions records the options of the first HELLO and checks that every
// later one agrees.
func (e *env) learnOptions(opts []string, c *client) {
	e.mu.Lock()
	first := e.opts
	if first == nil {
		e.opts = opts
		e.ledger = newLedger(len(opts))
	}
	e.mu.Unlock()
	if first != nil && !slices.Equal(first, opts) {
		e.violate(propConsistency, "%v got HELLO %v, others %v", c, opts, first)
	}
}

func (e *env) options() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts
}

// noteSent counts a complete VOTE line written by a client.
func (e *env) noteSent(opt string, n int) {
	e.mu.Lock()
	e.sent[opt] += n
	e.mu.Unlock()
}

// noteAck records an OK: seqs are unique across all clients.
func (e *env) noteAck(c *client, seq uint64, opt string) {
	if c.quiet.Load() {
		return
	}
	e.mu.Lock()
	i := slices.Index(e.opts, opt)
	if i < 0 || e.ledger == nil {
		e.mu.Unlock()
		return
	}
	prev, ok := e.ledger.add(seq, i)
	e.mu.Unlock()
	if !ok {
		e.violate(propConsistency, "seq %d acknowledged twice: for %q and, to %v, for %q", seq, e.opts[prev], c, opt)
	}
}

// checkTally checks a tally against the votes known so far: TALLY k counts
// at least the acknowledged votes with seq ≤ k, and exactly those when all
// of 1..k are known.
func (e *env) checkTally(c *client, m wire.Msg) {
	e.mu.Lock()
	opts, l := e.opts, e.ledger
	if l == nil || len(m.Counts) != len(opts) {
		e.mu.Unlock()
		return
	}
	known := make([]int, len(opts))
	for i := range opts {
		known[i] = l.upTo(i, m.Seq)
	}
	all := uint64(l.allUpTo(m.Seq)) == m.Seq
	e.mu.Unlock()
	for i, opt := range opts {
		got := m.Counts[i]
		if uint64(known[i]) > got {
			e.violate(propConsistency, "%v: TALLY %d counts %s=%d, but %d votes for %s with seq ≤ %d were acknowledged",
				c, m.Seq, opt, got, known[i], opt, m.Seq)
			return
		}
		if all && uint64(known[i]) != got {
			e.violate(propConsistency, "%v: TALLY %d counts %s=%d, but the acknowledged votes 1..%d hold %d",
				c, m.Seq, opt, got, m.Seq, known[i])
			return
		}
	}
}

// dial connects a new client of kind k and starts its reader.
func (e *env) dial(k kind) (*client, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.bound)
	defer cancel()
	conn, err := e.ln.Dial(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	c := newClient(e, len(e.clients), k, conn)
	e.clients = append(e.clients, c)
	e.mu.Unlock()
	k.setup(c)
	go c.readLoop()
	return c, nil
}

// awaitHello waits for a client's HELLO; a missing one is a progress
// violation.
func (e *env) awaitHello(c *client) bool {
	if !e.within(c.hello) {
		e.violate(propProgress, "%v got no HELLO within %v", c, e.cfg.bound)
		return false
	}
	c.mu.Lock()
	ok := c.opts != nil
	c.mu.Unlock()
	if !ok {
		e.violate(propProgress, "%v got no HELLO: %v (last lines %q)", c, c.err(), c.lastLines())
	}
	return ok
}

// shutdown cancels the server's context and waits, within the bound, for
// Serve to return; then it closes every client.
func (e *env) shutdown() {
	e.cancel()
	if !e.within(e.serveEnd) {
		e.violate(propLeaks, "Serve did not return within %v of its context's end", e.cfg.bound)
	}
	e.closeClients()
	_ = e.ln.Close()
}

// closeClients closes every client and waits for their readers.
func (e *env) closeClients() {
	e.mu.Lock()
	cs := slices.Clone(e.clients)
	e.mu.Unlock()
	for _, c := range cs {
		_ = c.conn.Close()
	}
	for _, c := range cs {
		<-c.done
	}
}

// report formats everything a failure needs: the property, the violation,
// the steps taken, each client's last lines and fault events, and the
// server goroutines that were stuck.
func (e *env) report(prop, violation string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "property %q violated: %s\n", prop, violation)
	fmt.Fprintf(&b, "transport %v, bound %v, scenario of %d steps; first violation after %.2fs\n",
		e.cfg.transport, e.cfg.bound, e.steps, e.cfg.firstViolation(prop).Seconds())
	b.WriteString("steps:\n")
	for _, s := range e.trace {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	b.WriteString("clients:\n")
	for _, c := range e.clients {
		st := c.conn.Stats()
		fmt.Fprintf(&b, "  %v: wrote %d B, read %d B, %d B unsent; last lines %q\n", c, st.Written, st.Read, st.Unsent, c.lastLines())
		for _, ev := range c.conn.Events() {
			if ev.Kind != faultnet.EventClose {
				fmt.Fprintf(&b, "      %v\n", ev)
			}
		}
	}
	if e.stacks != "" {
		b.WriteString("server goroutines when the violation was seen:\n")
		b.WriteString(e.stacks)
	}
	return b.String()
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
// up, say).
func (e *env) serveReturned() bool {
	e.mu.Lock()
	ended, err := e.serveEnded, e.serveErr
	e.mu.Unlock()
	if ended && e.ctx.Err() == nil {
		e.violate(propProgress, "Serve returned while its context was live: %v", err)
	}
	return ended
}
