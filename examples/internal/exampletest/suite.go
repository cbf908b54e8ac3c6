// Package exampletest is the examples' test harness, imported only by their
// _test.go files. It runs stallproof's suite against an example's fixed
// server, which must pass ([Passes]), and against its broken one in a child
// process of the test binary, which must fail on a named property
// ([Fails]); for the example's own unit tests, it starts an example on an
// in-memory faultnet listener ([Start], [Both]), runs a client's reader
// ([Receive]) and publishes while a healthy subscriber must get each
// message ([PublishEach]); and it describes and starts the chat servers
// written in other languages ([Chat]).
//
// An example's suite test is then two short tests:
//
//	func TestFixedPasses(t *testing.T) {
//		exampletest.Passes(t, exampletest.InProcess(pubsub.Serve), opts...)
//	}
//
//	func TestBrokenFails(t *testing.T) {
//		exampletest.Fails(t, exampletest.InProcess(pubsub.ServeBroken), []string{"progress", "delivery"}, opts...)
//	}
package exampletest

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/report"
)

// A Target runs the suite against one server with opts:
// properties.Run for a Go server ([InProcess]), properties.RunExec for
// a chat server in another process ([Chat]).
type Target func(t *testing.T, opts ...properties.Option)

// InProcess is the Target of a Go server: properties.Run(t, serve, opts...).
func InProcess(serve properties.ServeFunc) Target {
	return func(t *testing.T, opts ...properties.Option) {
		t.Helper()
		properties.Run(t, serve, opts...)
	}
}

// FixedChecks is how many checks per property Passes runs unless its
// options say otherwise: CI's budget, since each request of bounded's heap
// measurement is a round trip through the example's client library
// (-rapid.checks, or make soak, runs more).
const FixedChecks = 5

// Passes runs the whole suite against target, which must pass, with
// FixedChecks checks per property and then opts.
func Passes(t *testing.T, target Target, opts ...properties.Option) {
	t.Helper()
	target(t, append([]properties.Option{properties.Checks(FixedChecks)}, opts...)...)
}

// childEnv names, in a child started by Fails, the test it is to run.
const childEnv = "STALLPROOF_EXAMPLE_CHILD"

// childTimeout bounds one child run of Fails.
const childTimeout = 3 * time.Minute

// childShrinkTime bounds the child's shrinking: a Fails needs the verdict,
// not the shortest counterexample.
const childShrinkTime = properties.LaterShrinkTime

// Fails proves that the suite catches a broken server: it runs t's test,
// a top-level test, again in a child process of the test binary, where
// Fails runs the suite against target with the suite's default number of
// checks and opts, and no fail file written; and it fails t unless the
// child fails and the first property that failed is one of caughtBy.
func Fails(t *testing.T, target Target, caughtBy []string, opts ...properties.Option) {
	t.Helper()
	switch os.Getenv(childEnv) {
	case t.Name():
		target(t, opts...) // must fail
		return
	case "":
	default:
		t.Skip("in the child of another test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1",
		"-rapid.nofailfile", "-rapid.shrinktime="+childShrinkTime.String())
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err == nil {
		t.Fatalf("the suite passed a broken server:\n%s", out)
	}
	if ctx.Err() != nil {
		t.Fatalf("the child did not finish within %v:\n%s", childTimeout, out)
	}
	var failed []report.Verdict // in the order the properties ran
	for line := range strings.Lines(string(out)) {
		if v, ok, err := report.ParseVerdict(line); ok && err == nil && v.Result == report.Fail {
			failed = append(failed, v)
		}
	}
	if len(failed) == 0 {
		t.Fatalf("the child failed with no property failed:\n%s", out)
	}
	if !slices.Contains(caughtBy, failed[0].Property) {
		t.Fatalf("the first property that failed is %s, want one of %q:\n%s", failed[0].Property, caughtBy, out)
	}
	t.Logf("caught in %.1fs, by %s", wall.Seconds(), report.FormatVerdict(failed[0]))
	for _, v := range failed[1:] {
		t.Logf("then failed: %s", v.Property)
	}
}
