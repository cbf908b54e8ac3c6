// Package suitetest proves, for the examples, that stallproof's suite
// catches a broken server: it runs the suite against it in a child test
// process, which must fail, and reads from the child's output which
// property failed, when the first violation came and how short the
// counterexample shrank.
package suitetest

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

const childEnv = "STALLPROOF_EXAMPLE_CHILD"

// Timeout bounds one child run.
const Timeout = 3 * time.Minute

// SkipUnlessChild skips t unless the test binary runs as a child started by
// Caught: the test it guards must fail, so it runs only there.
func SkipUnlessChild(t *testing.T) {
	t.Helper()
	if os.Getenv(childEnv) == "" {
		t.Skip("runs only as a child of a test that expects it to fail")
	}
}

// Verdict is what a child run of the suite showed.
type Verdict struct {
	Failed         []string      // the properties that failed, in the order they ran
	Violated       []string      // those of them with a violation report (not merely skipped after another's)
	FirstViolation time.Duration // time from the property's start to its first violation
	Steps          int           // steps of the shrunk counterexample
	Wall           time.Duration // wall time of the child run
	Output         []byte
}

var (
	failedRe   = regexp.MustCompile(`(?m)^\s*--- FAIL: [^/\s]+/(\w+)`)
	violatedRe = regexp.MustCompile(`property "(\w+)" violated: `)
	reportRe   = regexp.MustCompile(`scenario of \d+ steps \((\d+) drawn by rapid\); first violation after ([\d.]+)s`)
)

// Caught runs the test named child of this binary in a child process, with
// the suite's default options and no fail file written, and fails t unless
// the child fails and the first property that failed with a violation is
// one of want.
func Caught(t *testing.T, child string, want ...string) Verdict {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+child+"$", "-test.v", "-test.count=1", "-rapid.nofailfile")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	v := Verdict{Wall: time.Since(start), Output: out}
	if err == nil {
		t.Fatalf("the suite passed a broken server:\n%s", out)
	}
	if ctx.Err() != nil {
		t.Fatalf("the child did not finish within %v:\n%s", Timeout, out)
	}
	for _, m := range failedRe.FindAllSubmatch(out, -1) {
		v.Failed = append(v.Failed, string(m[1]))
	}
	for _, m := range violatedRe.FindAllSubmatch(out, -1) {
		v.Violated = append(v.Violated, string(m[1]))
	}
	if m := reportRe.FindSubmatch(out); m != nil {
		v.Steps, _ = strconv.Atoi(string(m[1]))
		s, _ := strconv.ParseFloat(string(m[2]), 64)
		v.FirstViolation = time.Duration(s * float64(time.Second))
	}
	if len(v.Violated) == 0 {
		t.Fatalf("the child failed with no property violated:\n%s", out)
	}
	ok := false
	for _, w := range want {
		ok = ok || v.Violated[0] == w
	}
	if !ok {
		t.Fatalf("the first violation was of %q, want one of %q:\n%s", v.Violated[0], want, out)
	}
	t.Logf("caught by %s in %.1fs (first violation after %.2fs, shrunk to %d steps); failed: %v",
		v.Violated[0], v.Wall.Seconds(), v.FirstViolation.Seconds(), v.Steps, v.Failed)
	return v
}
