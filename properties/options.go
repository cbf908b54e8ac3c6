package properties

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/properties/report"
)

// An Option configures Run.
type Option interface {
	apply(*config)
	fmt.Stringer
}

// Transport selects the network the server under test listens on.
type Transport int

const (
	// InMemory is faultnet's in-memory network with small buffers: stalls
	// happen after a few kilobytes and every fault is exact. The default.
	InMemory Transport = iota
	// LoopbackTCP is real TCP on 127.0.0.1, wrapped by faultnet, with socket
	// buffers shrunk so a stalled client blocks the server after tens of
	// kilobytes. It exercises the server's real socket error paths. On
	// Linux the suite sees in the kernel (sock_diag) when the server's
	// writes to a stalled client block, and its directed phases are as
	// exact as in memory; elsewhere, a verdict names what they could not
	// check.
	LoopbackTCP
)

func (tr Transport) String() string {
	if tr == LoopbackTCP {
		return "LoopbackTCP"
	}
	return "InMemory"
}

type config struct {
	props          []string
	checks         int
	bound          time.Duration
	transport      Transport
	bufSize        int
	execSockBuf    int // RunExec's namespace; 0: netns.DefaultSocketBufferSize
	maxSteps       int
	proto          Protocol
	policy         SlowConsumerPolicy
	heapPerStalled int
	floodSize      int
	floodSet       bool
	leakOpts       []goleak.Option
	runAll         bool
	oneAtATime     bool // OneAtATime: no two properties' checks side by side
	// labels: the suite starts the server (Run) and goroutine dumps show
	// profiler labels, so a check's server's goroutines can be told from
	// its clients' and, side by side, from other checks' (set by run).
	labels    bool
	side      bool // properties run side by side (set by run)
	reportDir string
	hints     hints
	target    *target    // nil: Run's listener
	virtual   bool       // VirtualTime
	bubbleT   *testing.T // the property's test, for its bubbles; nil outside go test
	// tcpView is the kernel's view of the sockets of a Run over loopback
	// TCP (WithTransport(LoopbackTCP)), opened by run; nil otherwise.
	tcpView *kernelView

	run *runState
}

// runState is what one Run has seen so far, across its properties.
type runState struct {
	mu       sync.Mutex
	started  map[string]time.Time     // property → when its checks began
	first    map[string]time.Duration // property → time to its first violation
	liveness map[string]bool          // property whose checks saw a violation: the rest are shrink attempts
	frozen   string                   // the first such violation of the Run, and where
	// realTimeWhy is why the Run went on in real time after VirtualTime
	// (a bubble given up), or "".
	realTimeWhy string
	// realTimeNext is realTimeWhy from the next property on: a bubble
	// given up while shrinking a failure, which must replay on the clock
	// it failed on.
	realTimeNext string
	bubbled      map[string]int // property → checks that ran in a bubble
	// failedInBubble: property → whether its first failure was seen in
	// a bubble; its shrink attempts, and rapid's replay, run on that clock.
	failedInBubble map[string]bool
	bubbleBegan    map[string]time.Duration // property → when its current bubbled check began, since started
	failed         map[string]failure       // property → its first failed check
	deep           map[string]bool          // property/phase → done once (firstTime)

	ran             map[string]int            // property → checks that reached a verdict
	inconclusive    map[string]int            // property → checks that were inconclusive
	inconclusiveWhy map[string]string         // property → the first one's reason
	skippedPhases   map[string][]skippedPhase // property → the phases that could not run, and why
	phasesRan       map[string]bool           // property/phase → ran in full in some check (phaseRan)
	fewer           map[string]bool           // properties run with laterChecks, after an earlier one failed
	hangs           map[string]string         // property → Serve did not return after one of its checks
	hang            string                    // the first such hang of the Run
	heaps           map[string]heapMeasure
	shrink          map[string]shrinkState // property → its shrinking (shrinkguard.go)
	spoke           bool                   // some request was answered, or some greeting matched (mismatch.go)

	// lookers are the goleak.Find calls that findLeaks no longer waits
	// for: the Run waits for them before it returns.
	lookers sync.WaitGroup

	test   string               // the ID of the goroutine that called Run (stacks.Owner.Test)
	served map[string]time.Time // the labels of the Serve calls that have returned, and when
}

// runTest is the ID of the goroutine of the test that called Run, or ""
// outside a Run.
func (c *config) runTest() string {
	if c.run == nil {
		return ""
	}
	return c.run.test
}

// serveEnds notes that the Serve call labelled label (label "": none)
// has returned.
func (c *config) serveEnds(label string) {
	if label == "" || c.run == nil {
		return
	}
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	c.run.served[label] = time.Now()
}

// servingSince reports whether label is that of a Serve call still
// running at since, or one the suite did not start.
func (c *config) servingSince(label string, since time.Time) bool {
	if c.run == nil {
		return true
	}
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	ended, ok := c.run.served[label]
	return !ok || ended.After(since)
}

// looker runs f in a goroutine that the Run waits for before it returns
// (outside a Run, as in the engine's own tests, no one waits).
func (c *config) looker(f func()) {
	if c.run == nil {
		go f()
		return
	}
	c.run.lookers.Go(f)
}

// firstTime reports, once per property, that this check is the one to do
// what: a costly phase that one check of a property does (a deep push
// through a server's megabytes of socket buffers, a wait for a declared
// eviction deadline), not every check. Once a check of the property has
// failed, every later check does it too, so that shrinking replays the
// phase that failed.
func (c *config) firstTime(under, what string) bool {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	key := under + "/" + what
	if c.run.deep[key] && !c.run.liveness[under] {
		return false
	}
	c.run.deep[key] = true
	return true
}

// noteFewer records that property under runs fewer checks, for its
// verdict.
func (c *config) noteFewer(under string) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	c.run.fewer[under] = true
}

// shrinking reports whether a check of property under has failed: the
// checks that follow are rapid's shrink attempts.
func (c *config) shrinking(under string) bool {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	return c.run.liveness[under]
}

// failure is one failed check.
type failure struct {
	prop, msg, report string
	data              *report.Report
	site              string   // where it failed, as rapid's traceback tells (env.failSite)
	shrunk            *failure // of the first: the last failed check, the shrunk one rapid replays at the end
}

// start records that property under's checks begin.
func (c *config) start(under string) {
	c.run.mu.Lock()
	c.run.started[under] = time.Now()
	if c.run.realTimeWhy == "" {
		c.run.realTimeWhy = c.run.realTimeNext
	}
	c.run.mu.Unlock()
}

// noteViolation records a violation of prop seen while checking property
// under. One of progress means the server stopped answering: later checks
// of under are shrink attempts, run with a probe bound, and, unless
// RunAll, the Run's remaining properties are not run.
//
// In a bubble (virtual), the clock is not the Run's: the time to the first
// violation is taken as the real time at which the check began.
func (c *config) noteViolation(under, prop, msg string, virtual bool) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	if _, ok := c.run.first[under]; !ok {
		since := time.Since(c.run.started[under])
		if virtual {
			since = c.run.bubbleBegan[under]
		}
		c.run.first[under] = since
		c.run.failedInBubble[under] = virtual
	}
	// Later checks of under are shrink attempts: run them with a probe
	// bound. A shrink is kept only if it fails with the very same class of
	// violation, so a probe that runs out too early on a slow machine can
	// cost a shrink step, never a false verdict.
	c.run.liveness[under] = true
	if prop == propProgress {
		if c.run.frozen == "" {
			c.run.frozen = fmt.Sprintf("%s (seen while checking %s)", msg, under)
		}
	}
}

// noteFailure records a failed check of property under. The first is
// kept for a failure rapid cannot reproduce ("flaky"); the last, the
// shrunk one rapid replays at the end, is what the verdict and the report
// show.
func (c *config) noteFailure(under string, f failure) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	first, ok := c.run.failed[under]
	if !ok {
		first = f
	}
	first.shrunk = &f
	c.run.failed[under] = first
	c.noteShrinkFailure(under, f.site)
}

func (c *config) firstFailure(under string) (failure, bool) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	f, ok := c.run.failed[under]
	return f, ok
}

// sinceStart returns the time from the start of property under to its
// first violation.
func (c *config) sinceStart(under string) time.Duration {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	return c.run.first[under]
}

func (c *config) frozen() string {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	return c.run.frozen
}

// boundFor is the bound for a check of property under: the configured
// one, or, once a check of under has failed, a probe bound an eighth as
// long (at least 200 ms), so that shrinking does not cost the full bound
// per attempt. The lag monitor still extends it by any time stolen from
// the harness.
func (c *config) boundFor(under string) time.Duration {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	if c.run.liveness[under] {
		return min(c.bound, max(c.bound/8, 200*time.Millisecond))
	}
	return c.bound
}

// Defaults.
const (
	// DefaultBound is how long a healthy client waits for any answer before
	// the server counts as stuck. A frozen server is infinitely slow, so a
	// generous bound still tells right from wrong, and does not flake on a
	// loaded machine.
	DefaultBound = 2 * time.Second
	// DefaultChecks is the number of checks per property (divided by 5
	// under -short), unless -rapid.checks is given. A check is one rapid
	// test case: one scenario drawn, run and judged.
	DefaultChecks = 20
	// DefaultFloodBytes is how much a flooding client sends without reading
	// before the server must have pushed back or evicted it.
	DefaultFloodBytes = 2 << 20
	// DefaultFloodBytesAddr is DefaultFloodBytes for RunAddr, whose
	// server's own socket buffers (not the suite's) absorb megabytes.
	DefaultFloodBytesAddr = 16 << 20
)

func newConfig(opts []Option) config {
	c := config{
		props:     allProps(),
		checks:    DefaultChecks,
		bound:     DefaultBound,
		bufSize:   8 << 10,
		maxSteps:  12,
		floodSize: DefaultFloodBytes,
		proto:     ProtocolV1(),
		reportDir: os.Getenv("STALLPROOF_REPORT_DIR"),
		virtual:   os.Getenv(timeEnv) == "virtual",
		run:       newRunState(),
	}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// newRunState is the state of a Run that has seen nothing yet.
func newRunState() *runState {
	return &runState{
		started: map[string]time.Time{}, bubbleBegan: map[string]time.Duration{},
		first: map[string]time.Duration{}, liveness: map[string]bool{}, failed: map[string]failure{}, deep: map[string]bool{},
		ran: map[string]int{}, inconclusive: map[string]int{}, inconclusiveWhy: map[string]string{},
		skippedPhases: map[string][]skippedPhase{}, phasesRan: map[string]bool{}, bubbled: map[string]int{}, failedInBubble: map[string]bool{}, fewer: map[string]bool{}, hangs: map[string]string{}, heaps: map[string]heapMeasure{},
		shrink: map[string]shrinkState{}, served: map[string]time.Time{},
	}
}

type optionFunc struct {
	f    func(*config)
	desc string
}

func (o optionFunc) apply(c *config) { o.f(c) }
func (o optionFunc) String() string  { return o.desc }

func option(desc string, f func(*config)) Option { return optionFunc{f, desc} }

// Properties restricts Run to the named properties: "progress",
// "delivery", "consistency", "isolation", "bounded", "halfclose", "leaks".
func Properties(names ...string) Option {
	return option(fmt.Sprintf("Properties(%q)", names), func(c *config) { c.props = names })
}

// Checks sets the number of checks of each property (default
// DefaultChecks, divided by 5 under -short). A check is one rapid test
// case: one scenario drawn, run against the server and judged; rapid's
// output counts them as "tests". An explicit -rapid.checks flag wins.
func Checks(n int) Option {
	return option(fmt.Sprintf("Checks(%d)", n), func(c *config) { c.checks = max(n, 1) })
}

// Bound sets how long a healthy client waits for an answer before the
// server counts as stuck (default DefaultBound). Keep it generous.
func Bound(d time.Duration) Option {
	return option(fmt.Sprintf("Bound(%v)", d), func(c *config) { c.bound = d })
}

// WithTransport selects the network (default InMemory).
func WithTransport(tr Transport) Option {
	return option(fmt.Sprintf("WithTransport(%v)", tr), func(c *config) { c.transport = tr })
}

// BufferSize sets the buffers on the suite's side of every connection
// (default 8 KiB): how soon a client that stops reading blocks the
// server's writes. It is the in-memory buffer of each direction
// (faultnet.BufferSize) and, where a real socket carries the connection
// (LoopbackTCP, RunAddr, RunExec), that socket's buffers too
// (faultnet.SocketBufferSize). It is smaller than faultnet's default, 64
// KiB, so that a stall blocks the server after a few kilobytes and each
// check is short. The socket buffers of a server RunExec starts are set by
// ExecSocketBufferSize; RunAddr's server keeps its own.
func BufferSize(n int) Option {
	return option(fmt.Sprintf("BufferSize(%d)", n), func(c *config) { c.bufSize = n })
}

// MaxSteps bounds the number of actions in one scenario (default 12).
func MaxSteps(n int) Option {
	return option(fmt.Sprintf("MaxSteps(%d)", n), func(c *config) { c.maxSteps = max(n, 1) })
}

// FloodBytes sets how many bytes of requests a client that never reads may
// send before the server must have evicted it or stopped reading from it
// (default DefaultFloodBytes). Set it above your server's per-client
// buffer limits.
func FloodBytes(n int) Option {
	return option(fmt.Sprintf("FloodBytes(%d)", n), func(c *config) { c.floodSize, c.floodSet = n, true })
}

// IgnoreGoroutines passes goleak options (such as
// goleak.IgnoreTopFunction) to the leak checks, for goroutines the server
// legitimately keeps after Serve returns (a package-level worker, say).
func IgnoreGoroutines(opts ...goleak.Option) Option {
	return option("IgnoreGoroutines(...)", func(c *config) { c.leakOpts = append(c.leakOpts, opts...) })
}

// RunAll runs every property even after one found that the server stops
// answering. By default the rest of the Run then fails at once, each
// property with that violation as its cause: a frozen server would only
// make every later check wait out its bound.
func RunAll() Option {
	return option("RunAll()", func(c *config) { c.runAll = true })
}

// ReportDir makes every failing property write its report as files under
// dir (report.json, timeline.svg and a copy of rapid's fail file; see
// package [report]), in a directory named after the test. The environment
// variable STALLPROOF_REPORT_DIR does the same, for CI.
func ReportDir(dir string) Option {
	return option(fmt.Sprintf("ReportDir(%q)", dir), func(c *config) { c.reportDir = dir })
}
