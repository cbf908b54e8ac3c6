package properties

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/internal/sockdiag"
	"github.com/stallproof/stallproof/properties/internal/stacks"
	"github.com/stallproof/stallproof/properties/report"
)

// ServeFunc runs a server on ln until ctx is done, and returns only after
// every goroutine it started has ended. It must not close over state shared
// between calls: Run calls it once per scenario, each time with a fresh
// listener, and several calls may run at the same time (OneAtATime says
// why, and turns that off).
type ServeFunc func(ctx context.Context, ln net.Listener) error

// Run checks that the server run by serve stays live and consistent
// whatever its clients do. It runs one subtest per property, each a rapid
// property test over generated scenarios of healthy and faulty clients
// speaking the server's protocol (protocol v1 unless WithProtocol or
// WithAdapter says otherwise):
//
//   - progress: every healthy client's request is answered within the bound,
//     whatever the other clients do (stall, trickle, flood, send garbage,
//     reset) and even while Accept fails with EMFILE;
//   - delivery: every healthy subscriber keeps receiving pushes within the
//     bound after each publish while other subscribers stall, trickle or
//     flood; a stalled subscriber that resumes catches up or is told it was
//     dropped;
//   - consistency (protocol v1): acknowledged seqs are unique; every tally
//     counts exactly the acknowledged votes up to its seq; a client's
//     tallies never go back; at quiescence every healthy client holds the
//     final tally;
//   - isolation: a healthy client's answer latency with stalled and
//     flooding peers stays within a generous factor of its latency without
//     them, measured in the same check;
//   - bounded: the server's heap does not grow with what it owes stalled
//     clients beyond its declared SlowConsumers policy, and a client that
//     floods requests without reading replies is evicted or pushed back;
//   - halfclose (protocol v1): votes sent before a half-close are answered
//     and counted, followed by a tally and a close; a reset loses no
//     acknowledged vote;
//   - leaks: goroutines return to the baseline when clients leave while the
//     server runs; a shutdown with stalled clients whose buffers are full
//     ends within the bound and leaves no goroutine of the server behind.
//
// Verdicts are honest: a property fails, never passes, when the server
// never greets or never serves, when Serve returns early (its error is in
// the report), when any violation cut the scenario short, or when a check
// exercised nothing. Verdicts are fast: once a check finds the server
// stopped answering, shrinking uses a probe bound, and the Run's remaining
// properties fail at once with that cause (RunAll runs them regardless).
//
// A failure reports the property, the shrunk list of steps, the seed and
// the command to replay it, each client's role, kind, last messages and the
// faults fired on its connections, and where the server's goroutines were
// stuck. Every wait is bounded, so a frozen server fails within seconds
// and never hangs the test binary.
//
// The checks of consistency, halfclose, delivery and leaks run side by
// side, each on its own listener with its own Serve call; progress,
// isolation and bounded run theirs alone (isolation compares latencies,
// bounded measures the heap). The leak checks tell a check's server's
// goroutines from the rest by the profiler label the suite puts on its
// Serve call (and on Serve's context), which every goroutine the server
// starts inherits. A goroutine labelled as a Serve call's that returned
// before the check began counts too: a hub that an earlier call started
// lazily. A goroutine with no label counts as the server's if it was
// started by a timer (time.AfterFunc), by a goroutine that is the
// server's or has ended, or by one that was there before the check and
// that the test calling Run, or the main goroutine (init functions,
// TestMain), started: a hub or worker to which Serve hands work. It does
// not if it descends from another test's goroutine, or a parent test's:
// a parallel test's server, a fixture that a parent test shares with
// subtests. What cannot be told apart counts: a fixture that TestMain
// started, or a client whose starter has ended (an http.Transport's
// connections), used by another test while the Run checks, fails leaks,
// and the report says why it may be wrong; IgnoreGoroutines, or keeping
// such tests out of the Run's binary, is the way out. A helper that the
// calling test starts before the Run counts as well: give it a subtest of
// its own. A client's goroutines, a client library's too, carry another
// label. This needs Go 1.26, whose goroutine dumps show
// labels (GODEBUG tracebacklabels=1, which a Run sets while it runs):
// without, properties run in turn and the leak checks count every new
// goroutine. OneAtATime runs every property in turn.
//
// Runs in one process take turns: a Run called from a parallel test waits
// for the one running to end, because the heap measurement looks at the
// whole heap, and rapid's flags are the process's. Other parallel tests
// still run beside a Run: the leak checks leave their goroutines out (with
// labels), but the heap measurement sees what they allocate, so keep
// tests that allocate much out of a binary whose Runs check memory.
func Run(t *testing.T, serve ServeFunc, opts ...Option) {
	t.Helper()
	run(goTest{t}, serve, nil, opts)
}

// run is Run, RunDial and RunAddr: serve on the suite's listener, or
// reach the target.
//
// It returns the mismatch message when the server never spoke the protocol
// as described (mismatch.go), or "".
func run(t suiteT, serve ServeFunc, tg *target, opts []Option) (mismatch string) {
	t.Helper()
	// One Run at a time in a process: a Run sets rapid's flags, which are
	// the process's, and measures the whole process's goroutines and
	// heap. Runs of parallel tests take turns.
	runMu.Lock()
	defer runMu.Unlock()
	cfg := newConfig(opts)
	defer cfg.run.lookers.Wait() // no goroutine of the harness outlives the Run
	cfg.run.test = stacks.SelfID()
	cfg.target = tg
	if tg == nil {
		restore, shown := stacks.ShowLabels()
		defer restore()
		cfg.labels = shown
	}
	cfg.side = cfg.sideBySide(t)
	if tg == nil && cfg.transport == LoopbackTCP {
		// The server's sockets are the suite's listener's, with small
		// buffers already: only the view of them is needed.
		if d, err := sockdiag.Open(); err == nil {
			cfg.tcpView = &kernelView{diag: d}
			defer cfg.tcpView.close()
		}
	}
	if tg != nil && tg.addr != "" {
		tg.kv = openKernelView(tg, cfg.bufSize, tg.openDiag)
		defer tg.kv.close()
		for _, n := range tg.kv.notes {
			t.Log(n)
		}
	}
	if tg.bigBuffers() && !cfg.floodSet {
		// A server in its own process keeps its own socket buffers: on
		// Linux loopback they absorb up to ~4 MiB of replies before its
		// Write blocks and it stops reading.
		cfg.floodSize = max(cfg.floodSize, DefaultFloodBytesAddr)
	}
	if err := cfg.proto.validate(); err != nil {
		t.Fatal(err)
	}
	if v := os.Getenv(timeEnv); v != "" && v != "virtual" && v != "real" {
		t.Fatalf("properties: %s=%q: want virtual or real", timeEnv, v)
	}
	defer setFlag("rapid.checks", "RAPID_CHECKS", strconv.Itoa(rapidChecks(cfg.checks)))()
	defer setFlag("rapid.shrinktime", "RAPID_SHRINKTIME", DefaultShrinkTime.String())()
	failedOnce := false
	fewer := false // the later properties run laterChecks
	restore, shard, err := applyShard()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	if shard != "" {
		t.Log(shard)
	}
	for _, name := range cfg.props {
		if _, ok := properties[name]; !ok {
			t.Fatalf("properties: unknown property %q (want one of %s)", name, strings.Join(allProps(), ", "))
		}
	}
	cfg.warmUp(serve)
	for _, stage := range stages(cfg.props, cfg.side) {
		var names []string
		var fs []func(suiteT)
		for _, name := range stage {
			p := properties[name]
			if why := cfg.skipWhy(p); why != "" {
				skip(t, name, why)
				continue
			}
			if frozen := cfg.frozen(); frozen != "" && !cfg.runAll {
				t.run(name, func(t suiteT) {
					msg := fmt.Sprintf("not run: the server stopped answering: %s (%s runs every property regardless)", frozen, cfg.hints.runAllHint())
					v := report.Verdict{Property: name, Result: report.Fail, Violation: msg}
					t.Log(report.FormatVerdict(v))
					t.verdict(v)
					t.Fatalf("%s: %s", name, msg)
				})
				continue
			}
			cfg.start(name)
			if fewer {
				cfg.noteFewer(name)
			}
			names = append(names, name)
			fs = append(fs, cfg.propertyTest(name, serve))
		}
		if len(names) > 1 {
			t.Log(sideBySideNote(names))
		}
		// rapid's flags are the process's, and read while it checks: they
		// change only here, between stages.
		for i, passed := range runSideBySide(t, names, fs) {
			if !passed && !failedOnce {
				failedOnce = true
				// One shrunk failure is what a reader needs first; the later
				// ones often share its cause, and shrink for less.
				defer setFlag("rapid.shrinktime", "RAPID_SHRINKTIME", LaterShrinkTime.String())()
				if !cfg.runAll {
					// The Run fails whatever the later properties say:
					// they run a few checks, not the full count.
					restore, set := setFlagSaid("rapid.checks", "RAPID_CHECKS", strconv.Itoa(rapidChecks(laterChecks(cfg.checks))))
					defer restore()
					fewer = set
				}
			}
			if !passed && mismatch == "" {
				mismatch = cfg.mismatch(names[i])
			}
		}
	}
	if mismatch != "" {
		t.Errorf("%s", mismatch)
	}
	return mismatch
}

// propertyTest is property name's subtest: its rapid checks against serve, and
// its verdict.
func (c config) propertyTest(name string, serve ServeFunc) func(suiteT) {
	p := properties[name]
	return func(t suiteT) {
		if gt, ok := t.(goTest); ok {
			c.bubbleT = gt.T // this property's: its bubbles are its test's
		}
		rt := &rapidTB{suiteT: t}
		defer func() { c.verdict(t, name, rt.said()) }() // rapid ends a failed test with FailNow
		// Every goroutine a check starts, but its Serve call's, is a
		// client's: the leak checks and reports tell them from the
		// server's by this label.
		labelled(c.labels, harness.ClientLabel, name, func() {
			rapid.Check(rt, func(t *rapid.T) {
				c.skipLateAttempt(t, name)
				check(t, &c, p, serve)
			})
		})
	}
}

// skipWhy says why property p cannot be checked in this Run, or "".
func (c *config) skipWhy(p property) string {
	tg := c.target
	switch {
	case p.v1 && !c.proto.v1:
		return fmt.Sprintf("%s knows the votes of protocol v1; skipped for %s", p.name, c.proto.Name)
	case p.name == propLeaks && !tg.inProcess():
		return tg.elsewhere() + ": its goroutines cannot be seen"
	case p.name == propHalfClose && tg != nil && tg.addr == "":
		return fmt.Sprintf("%v may hand out connections that cannot half-close (net.Pipe cannot): use RunAddr or Run", tg)
	case p.name == propDelivery && !c.proto.pubsub():
		return fmt.Sprintf("no role of %s is pushed to while another publishes: nothing to deliver", c.proto.Name)
	}
	return ""
}

// runMu is held for the whole of a Run.
var runMu sync.Mutex

// skip skips property name with why, and says so in a verdict line.
func skip(t suiteT, name, why string) {
	t.run(name, func(t suiteT) {
		v := report.Verdict{Property: name, Result: report.Skip, Violation: why}
		t.Log(report.FormatVerdict(v))
		t.verdict(v)
		t.Skip(why)
	})
}

// verdict prints property name's verdict line and, for a failure, what the
// harness saw first and, with a report directory, writes the report files.
// Everything a failure shows is of the same check: the shrunk one rapid
// replays at the end, or, if rapid could not reproduce the failure, the
// first.
func (c *config) verdict(t suiteT, name string, rs rapidSaid) {
	v := report.Verdict{Property: name, Result: report.Pass, Checks: c.checksRun(), Shard: os.Getenv(shardEnv)}
	first, failed := c.firstFailure(name)
	shown := first
	if failed && first.shrunk != nil && !rs.flaky {
		shown = *first.shrunk
	}
	if t.Failed() {
		v.Result = report.Fail
		v.Seed = rs.seed
		if failed {
			v.Violation = firstLine(shown.msg)
			c.renameFrozen(first.msg, shown.msg)
			if rs.flaky {
				t.Logf("%s: rapid could not reproduce the failure; the report of the first failed check, after %.2fs:\n%s",
					name, c.sinceStart(name).Seconds(), first.report)
			} else if first.msg != shown.msg {
				t.Logf("%s: the first failed check, after %.2fs, saw: %s", name, c.sinceStart(name).Seconds(), firstLine(first.msg))
			}
		}
		if failed && c.reportDir != "" && shown.data != nil {
			dir := report.DirFor(c.reportDir, t.Name())
			ff := report.FailFile(t.Name())
			shown.data.Seed = rs.seed
			shown.data.Replay = "go test -run '" + runPattern(t.Name()) + "'"
			if ff != "" {
				shown.data.Replay += " -rapid.failfile=" + ff
			}
			if r := c.hints.replayFor(name, shown.data.Seed); r != "" {
				shown.data.Replay = r
			}
			if err := shown.data.WriteDir(dir, ff); err != nil {
				t.Logf("writing the report: %v", err)
			} else {
				v.Report = dir
			}
		}
	}
	v.Note = c.verdictNote(name)
	if n, of, why := c.inconclusiveChecks(name); n > 0 && n == of && !t.Failed() {
		// Not one check said anything about the server: not a pass.
		msg := fmt.Sprintf("every check was inconclusive: %s", why)
		v.Result, v.Violation = report.Skip, msg
		t.Log(report.FormatVerdict(v))
		t.verdict(v)
		t.Skip(msg)
		return
	}
	t.Log(report.FormatVerdict(v))
	t.verdict(v)
}

// renameFrozen makes the cause that stops the Run's later properties the
// shrunk failure's violation, as their reader sees it in the report, when
// it was the first failure's.
func (c *config) renameFrozen(first, shown string) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	if rest, ok := strings.CutPrefix(c.run.frozen, first+" ("); ok && first != shown {
		c.run.frozen = shown + " (" + rest
	}
}

// runPattern is go test's -run pattern for exactly the test named name:
// each level anchored, so that "TestBroken/progress" does not also run
// TestBrokenAll/progress, nor TestBroken/progress2.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// rapidTB is the test as rapid sees it: it keeps what rapid says of a
// failure, which it tells no other way: the seed of the failing check
// ("-rapid.seed=N") and whether it could reproduce the failure.
type rapidTB struct {
	suiteT
	mu sync.Mutex
	rs rapidSaid
}

// Output is the test's output, for rapid.T's Output, which rapid gives
// only the checks whose output it keeps (shrinkguard.go).
func (t *rapidTB) Output() io.Writer {
	if o, ok := t.suiteT.(interface{ Output() io.Writer }); ok {
		return o.Output()
	}
	return logWriter{t.suiteT}
}

// logWriter writes to a test's log.
type logWriter struct{ t suiteT }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// rapidSaid is what rapid said of a failure.
type rapidSaid struct {
	seed  uint64 // 0 if it named none (a fail file replayed)
	flaky bool   // it could not reproduce the failure
}

var rapidSeed = regexp.MustCompile(`-rapid\.seed=(\d+)`)

func (t *rapidTB) Errorf(format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	t.mu.Lock()
	if m := rapidSeed.FindStringSubmatch(msg); m != nil {
		t.rs.seed, _ = strconv.ParseUint(m[1], 10, 64)
	}
	t.rs.flaky = t.rs.flaky || strings.Contains(msg, "[rapid] flaky test")
	t.mu.Unlock()
	t.suiteT.Errorf("%s", msg)
}

func (t *rapidTB) said() rapidSaid {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rs
}

// checksRun is the number of checks rapid was asked for.
func (c *config) checksRun() int {
	if f := flag.Lookup("rapid.checks"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil {
			if testing.Short() {
				n /= 5
			}
			return n
		}
	}
	return c.checks
}

// DefaultShrinkTime is how long rapid may shrink a failure, unless
// -rapid.shrinktime or RAPID_SHRINKTIME says otherwise.
const DefaultShrinkTime = 8 * time.Second

// LaterShrinkTime is how long rapid may shrink the failures of a Run after
// its first, unless -rapid.shrinktime or RAPID_SHRINKTIME says otherwise.
const LaterShrinkTime = 2 * time.Second

// setFlag sets one of rapid's flags for the duration of Run, unless the
// user gave it on the command line or in its environment variable.
func setFlag(name, env, value string) (restore func()) {
	restore, _ = setFlagSaid(name, env, value)
	return restore
}

// setFlagSaid is setFlag, and reports whether it set the flag.
func setFlagSaid(name, env, value string) (restore func(), set bool) {
	f := flag.Lookup(name)
	if f == nil {
		return func() {}, false
	}
	explicit := os.Getenv(env) != ""
	flag.Visit(func(g *flag.Flag) { explicit = explicit || g.Name == f.Name })
	if explicit {
		return func() {}, false
	}
	old := f.Value.String()
	_ = f.Value.Set(value)
	return func() { _ = f.Value.Set(old) }, true
}

// laterChecks is how many checks a property runs once an earlier one of
// the Run failed (not frozen: a frozen server fails the rest at once):
// a fifth of the count, at least 2.
func laterChecks(checks int) int { return min(checks, max(2, checks/5)) }

// rapidChecks is the value of -rapid.checks that makes rapid run n checks
// (at least one): under -short, rapid runs a fifth of it, and none of 4
// or fewer, which would pass a property that checked nothing.
func rapidChecks(n int) int {
	if testing.Short() {
		return max(n, 5)
	}
	return n
}
