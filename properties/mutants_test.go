package properties_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/mutants"
)

// The mutant checks run the suite against each broken server in a child
// process (this test binary, re-executed), so that a mutant's failures,
// data races and leaked goroutines fail the child, not this run. The parent
// asserts that the child failed, and which property caught the mutant.

const mutantEnv = "STALLPROOF_MUTANT"

// TestMutantChild is the child: it runs the suite against one mutant. It is
// skipped unless STALLPROOF_MUTANT names one.
func TestMutantChild(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("runs only as a child of TestMutants")
	}
	m, ok := mutants.Lookup(name)
	if !ok {
		t.Fatalf("no mutant %q", name)
	}
	// With a list of properties, each runs on its own merits (RunAll);
	// without one, the Run is the default a user gets.
	var opts []properties.Option
	if props := os.Getenv(mutantEnv + "_PROPS"); props != "" {
		opts = append(opts, properties.RunAll(), properties.Properties(strings.Split(props, ",")...))
	}
	if os.Getenv(mutantEnv+"_TIME") == "virtual" {
		opts = append(opts, properties.VirtualTime())
	}
	if n, err := strconv.Atoi(os.Getenv(mutantEnv + "_CHECKS")); err == nil {
		opts = append(opts, properties.Checks(n))
	}
	switch os.Getenv(mutantEnv + "_TARGET") {
	case "dial":
		properties.RunDial(t, pipeServer(t, m.Serve), opts...)
	case "addr":
		properties.RunAddr(t, tcpServer(t, m.Serve), opts...)
	case "tcp":
		properties.Run(t, m.Serve, append(opts, properties.WithTransport(properties.LoopbackTCP))...)
	case "exec":
		t.Setenv(serveEnv, m.Name)
		properties.RunExec(t, []string{os.Args[0], "-test.run=^$"}, opts...)
	default:
		properties.Run(t, m.Serve, opts...)
	}
}

var (
	failRE   = regexp.MustCompile(`(?m)^\s*--- FAIL: TestMutantChild/(\w+)`)
	detectRE = regexp.MustCompile(`first violation after ([0-9.]+s)`)
	stepsRE  = regexp.MustCompile(`scenario of \d+ steps \((\d+) drawn`)
)

// caught runs the suite against mutant m in a child process and returns the
// properties that failed ("race" for a data race), the time to the first
// violation, and the length of the shrunk scenario.
func caught(t *testing.T, m mutants.Mutant, props []string) (failed []string, detect string, steps string, out []byte) {
	t.Helper()
	return caughtVia(t, m, props, os.Getenv(mutantEnv+"_TARGET"))
}

// caughtIn is caught on the given clock: "virtual" (VirtualTime) or "".
func caughtIn(t *testing.T, m mutants.Mutant, props []string, clock string) (failed []string, detect string, steps string, out []byte) {
	t.Helper()
	return caughtViaIn(t, m, props, os.Getenv(mutantEnv+"_TARGET"), clock)
}

// caughtVia is caught with the child's target: "" (Run), "tcp" (Run over
// loopback TCP), "dial", "addr" or "exec" (TestMutantChild).
func caughtVia(t *testing.T, m mutants.Mutant, props []string, target string) (failed []string, detect string, steps string, out []byte) {
	t.Helper()
	return caughtViaIn(t, m, props, target, os.Getenv(mutantEnv+"_TIME"))
}

// caughtViaIn is caughtVia on the given clock (TestMutantChild).
func caughtViaIn(t *testing.T, m mutants.Mutant, props []string, target, clock string) (failed []string, detect string, steps string, out []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	shrink := os.Getenv("STALLPROOF_SHRINKTIME") // longer for the shrunk lengths in bench/results.md
	if shrink == "" {
		shrink = childShrinkTime
	}
	args := []string{"-test.run=^TestMutantChild$", "-test.v", "-rapid.nofailfile", "-rapid.shrinktime=" + shrink}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), mutantEnv+"="+m.Name, mutantEnv+"_PROPS="+strings.Join(props, ","), mutantEnv+"_TARGET="+target, mutantEnv+"_TIME="+clock)
	if base := os.Getenv("STALLPROOF_REPORT_DIR"); base != "" { // a directory per mutant: the children's tests share names
		cmd.Env = append(cmd.Env, "STALLPROOF_REPORT_DIR="+filepath.Join(base, "mutant-"+m.Name))
	}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil, "", "", out
	}
	for _, sm := range failRE.FindAllSubmatch(out, -1) {
		failed = append(failed, string(sm[1]))
	}
	if bytes.Contains(out, []byte("WARNING: DATA RACE")) {
		failed = append(failed, mutants.Race)
	}
	if sm := detectRE.FindSubmatch(out); sm != nil {
		detect = string(sm[1])
	}
	if sms := stepsRE.FindAllSubmatch(out, -1); sms != nil {
		steps = string(sms[len(sms)-1][1])
	}
	return failed, detect, steps, out
}

// TestMutants proves that the suite catches every mutant, with the
// property the mutant is meant to be caught by.
func TestMutants(t *testing.T) { testMutants(t, "") }

// TestMutantsVirtualTime proves the same of Runs in virtual time
// (VirtualTime). The mutants whose goroutines wait for a lock held across
// a blocked write stop the bubble's clock: after the first give-up they
// run in real time, as in TestMutants, so lock-across-write alone stands
// for them here.
func TestMutantsVirtualTime(t *testing.T) { testMutants(t, "virtual") }

// realTimeAnyway are the mutants whose Runs in virtual time go on in real
// time after the first check: TestMutants covers them.
var realTimeAnyway = []string{"blocking-queue", "deep-blocking-queue", "broadcast-worker", "serial-writes"}

func testMutants(t *testing.T, clock string) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel() // children of the test binary: they overlap the other parallel tests
	for _, m := range mutants.All() {
		t.Run(m.Name, func(t *testing.T) {
			if clock == "virtual" && slices.Contains(realTimeAnyway, m.Name) {
				t.Skip("its lock waits stop the bubble's clock: it runs in real time, as in TestMutants")
			}
			t.Parallel()
			// Every property in the Caught list must fail, each on its own
			// merits: the child runs them all (RunAll).
			props := []string{}
			for _, p := range m.Caught {
				if p != mutants.Race {
					props = append(props, p)
				}
			}
			if os.Getenv("STALLPROOF_ALL_PROPS") != "" {
				props = nil // every property
			}
			runs := 1
			if n, err := strconv.Atoi(os.Getenv("STALLPROOF_MUTANT_RUNS")); err == nil && n > 1 {
				runs = n
			}
			var (
				failed      []string
				detect      string
				steps       string
				out         []byte
				detects     []time.Duration
				stepsCounts []int
			)
			var walls []time.Duration
			for range runs {
				start := time.Now()
				failed, detect, steps, out = caughtIn(t, m, props, clock)
				walls = append(walls, time.Since(start))
				if d, err := time.ParseDuration(detect); err == nil {
					detects = append(detects, d)
				}
				if n, err := strconv.Atoi(steps); err == nil {
					stepsCounts = append(stepsCounts, n)
				}
				if len(failed) == 0 {
					break
				}
			}
			t.Logf("%s: caught by %v; first violation after %s (median of %d runs: %v); shrunk to %s steps (median %v); whole Run %v (median %v)",
				m.Name, failed, detect, len(detects), median(detects), steps, median(stepsCounts), walls[len(walls)-1].Round(time.Millisecond), median(walls).Round(time.Millisecond))
			if len(failed) == 0 {
				t.Fatalf("the suite passed against mutant %s (%s):\n%s", m.Name, m.Bug, tail(out))
			}
			for _, p := range props {
				if !slices.Contains(failed, p) {
					t.Errorf("mutant %s: property %s passed; every property in its Caught list %v must fail (failed: %v):\n%s", m.Name, p, m.Caught, failed, tail(out))
				}
			}
			if slices.Contains(failed, mutants.Race) && !slices.Contains(m.Caught, mutants.Race) {
				t.Errorf("mutant %s: a data race was reported, but its Caught list %v does not name one:\n%s", m.Name, m.Caught, tail(out))
			}
		})
	}
}

func median[T int | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func tail(b []byte) string {
	const n = 6000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return fmt.Sprintf("...%s", b)
}

var verdictRE = regexp.MustCompile(`verdict property=(\w+) result=(\w+) checks=(\d+)(.*)`)

// TestLaterPropertiesRunFewerChecks: in a default Run, once a property
// fails (without freezing the server), every later property runs a fifth
// of its checks, and its verdict says so; the ones before ran in full.
func TestLaterPropertiesRunFewerChecks(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	// unbounded-line buffers a line without limit: bounded fails, and
	// nothing else is wrong with it, so the later properties pass. (Not
	// stale-mailbox: its race can fail every property, even in fewer
	// checks, and a Run with no later pass once failed this test.)
	m, _ := mutants.Lookup("unbounded-line")
	_, _, _, out := caught(t, m, nil)
	full, failedAt, later := 0, "", 0
	for _, sm := range verdictRE.FindAllStringSubmatch(string(out), -1) {
		prop, result, note := sm[1], sm[2], sm[4]
		n, _ := strconv.Atoi(sm[3])
		switch {
		case failedAt == "":
			if full == 0 {
				full = n
			}
			if n != full || strings.Contains(note, "fewer checks") {
				t.Errorf("%s, before any failure: %d checks (%q), want %d", prop, n, note, full)
			}
			if result == "FAIL" {
				failedAt = prop
			}
		case result == "PASS":
			later++
			if n < 1 || n >= full || !strings.Contains(note, "fewer checks") {
				t.Errorf("%s, after %s failed: %d checks (%q), want 1 to %d and a note", prop, failedAt, n, note, full-1)
			}
		}
	}
	if failedAt == "" || later == 0 {
		t.Fatalf("want a failed property followed by passing ones; failed: %q, later passes: %d:\n%s", failedAt, later, tail(out))
	}
	t.Logf("%s failed; %d later properties ran fewer checks than %d", failedAt, later, full)
}
