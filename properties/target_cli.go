package properties

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/properties/report"
)

// suiteT is what the engine needs of a test: rapid's TB, subtests, and a
// place for verdicts. Under go test it is a *testing.T (goTest); for
// CheckAddr, a standalone runner (cliT).
type suiteT interface {
	rapid.TB
	run(name string, f func(suiteT)) bool
	verdict(v report.Verdict)
}

// goTest is a *testing.T as a suiteT.
type goTest struct{ *testing.T }

func (t goTest) run(name string, f func(suiteT)) bool {
	return t.T.Run(name, func(tt *testing.T) { f(goTest{tt}) })
}

func (goTest) verdict(report.Verdict) {}

// CheckAddr runs the property suite, as RunAddr does, against the server
// listening on the loopback address addr, outside go test: for a CI step
// of a team whose server is not written in Go (stallproof check). It
// writes each property's log and, for a failure, its full report to out,
// and returns the verdicts in order; a FAIL among them is a violation.
// It refuses a non-loopback address, and fails at once, with the reason,
// if nothing accepts connections there.
//
// rapid's flags (-rapid.checks, -rapid.seed, ...) are read from the
// process's flag set if they were set; fail files are not written.
func CheckAddr(out io.Writer, addr string, opts ...Option) ([]report.Verdict, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	return checkTarget(out, addrTarget(addr, newConfig(opts).bufSize), opts)
}

// checkTarget runs the suite against tg outside go test.
func checkTarget(out io.Writer, tg *target, opts []Option) ([]report.Verdict, error) {
	testing.Init()
	if !flag.Parsed() {
		_ = flag.CommandLine.Parse(nil)
	}
	if f := flag.Lookup("rapid.nofailfile"); f != nil {
		_ = f.Value.Set("true")
	}
	root := &cliT{name: "stallproof-check", out: out, hints: newConfig(opts).hints}
	var mismatch string
	root.do(func() { mismatch = run(root, nil, tg, opts) })
	switch {
	case mismatch != "":
		return root.verdicts, &MismatchError{msg: mismatch}
	case root.failed && len(root.verdicts) == 0:
		return nil, errors.New(strings.TrimSpace(root.log.String()))
	}
	return root.verdicts, nil
}

// cliT is a minimal testing.T for CheckAddr: each subtest runs in its own
// goroutine, so that FailNow and SkipNow can end it as they do in go test.
type cliT struct {
	name   string
	out    io.Writer
	parent *cliT
	hints  hints // the command's flags, for rapid's "To reproduce" line

	mu       sync.Mutex
	log      strings.Builder
	failed   bool
	skipped  bool
	verdicts []report.Verdict // the root's
}

func (t *cliT) do(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func (t *cliT) run(name string, f func(suiteT)) bool {
	c := &cliT{name: t.name + "/" + name, out: t.out, parent: t, hints: t.hints}
	c.do(func() { f(c) })
	c.mu.Lock()
	defer c.mu.Unlock()
	status := "PASS"
	switch {
	case c.failed:
		status = "FAIL"
		t.Fail()
	case c.skipped:
		status = "SKIP"
	}
	fmt.Fprintf(t.out, "--- %s: %s\n%s", status, c.name, indent(c.log.String()))
	return !c.failed
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

func (t *cliT) verdict(v report.Verdict) {
	root := t
	for root.parent != nil {
		root = root.parent
	}
	root.mu.Lock()
	root.verdicts = append(root.verdicts, v)
	root.mu.Unlock()
}

func (t *cliT) Helper()      {}
func (t *cliT) Name() string { return t.name }
func (t *cliT) Logf(format string, args ...any) {
	msg := t.hints.rewrite(path.Base(t.name), fmt.Sprintf(format, args...))
	t.mu.Lock()
	fmt.Fprintln(&t.log, msg)
	t.mu.Unlock()
}
func (t *cliT) Log(args ...any)                  { t.Logf("%s", fmt.Sprint(args...)) }
func (t *cliT) Skipf(format string, args ...any) { t.Logf(format, args...); t.SkipNow() }
func (t *cliT) Skip(args ...any)                 { t.Log(args...); t.SkipNow() }
func (t *cliT) SkipNow() {
	t.mu.Lock()
	t.skipped = true
	t.mu.Unlock()
	runtime.Goexit()
}
func (t *cliT) Errorf(format string, args ...any) { t.Logf(format, args...); t.Fail() }
func (t *cliT) Error(args ...any)                 { t.Log(args...); t.Fail() }
func (t *cliT) Fatalf(format string, args ...any) { t.Logf(format, args...); t.FailNow() }
func (t *cliT) Fatal(args ...any)                 { t.Log(args...); t.FailNow() }
func (t *cliT) FailNow()                          { t.Fail(); runtime.Goexit() }
func (t *cliT) Fail() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
}
func (t *cliT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
