package properties_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/mutants"
)

// serveEnv makes the test binary a server in another process, for
// RunExec: "reference" or a mutant's name, served on $ADDR until SIGTERM.
const serveEnv = "STALLPROOF_SERVE"

func TestMain(m *testing.M) {
	if name := os.Getenv(serveEnv); name != "" {
		os.Exit(serveOnAddr(name))
	}
	harness.NoRaceExitPause()
	harness.DefaultParallel(harness.ChildParallelism)
	goleak.VerifyTestMain(m)
}

// crashing serves the reference server until its third connection (the
// first is RunExec's probe), then exits with status 3 and a last word on
// stderr.
func crashing(ctx context.Context, ln net.Listener) error {
	return reference(ctx, &crashListener{Listener: ln})
}

type crashListener struct {
	net.Listener
	n int
}

func (l *crashListener) Accept() (net.Conn, error) {
	c, err := l.Accept1()
	if l.n++; l.n == 3 {
		fmt.Fprintln(os.Stderr, "crash: out of luck on the third connection")
		os.Exit(3)
	}
	return c, err
}

// Accept1 is the embedded listener's Accept.
func (l *crashListener) Accept1() (net.Conn, error) { return l.Listener.Accept() }

// serveOnAddr serves the named server on $ADDR until SIGTERM.
func serveOnAddr(name string) int {
	serve := reference
	switch {
	case name == "crash":
		serve = crashing
	case name == "evicting":
		serve = evicting
	case name == "reference-evicting":
		serve = referenceEvicting
	case name != "reference":
		m, ok := mutants.Lookup(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "no mutant %q\n", name)
			return 2
		}
		serve = m.Serve
	}
	ln, err := net.Listen("tcp", os.Getenv("ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// quickShrink shortens rapid's shrinking for the rest of t, a test in
// which a failure is expected and what it shrinks to is not the point.
// Not for parallel tests: it sets a flag of the process. The flag stays
// marked as set on the command line, which Run respects, so t's cleanup
// sets it to Run's own default.
func quickShrink(t *testing.T) {
	t.Helper()
	if err := flag.Set("rapid.shrinktime", "500ms"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("rapid.shrinktime", properties.DefaultShrinkTime.String()) })
}

// childTimeout bounds a child process of a test: long, because a
// package's parallel tests run four children at once (ChildParallelism)
// beside the other packages' tests; a child that takes 27 s alone once
// ran past 2 minutes there. A frozen child still ends.
const childTimeout = 6 * time.Minute

// childShrinkTime is how long a test's child process shrinks a failure:
// next to nothing, since the tests judge which property failed and why,
// not how small the scenario got, and each shrink attempt against a
// server that waits out a deadline costs that deadline again (Run's
// default is 8 s). rapid still reproduces the failure and replays it.
const childShrinkTime = "1ms"

// childTest is this test binary, bound to ctx, running only the tests
// that match run, verbose, with no fail file and childShrinkTime of
// shrinking, with env added to the environment. A child outliving ctx is
// killed by its PID 5 s after it is interrupted.
func childTest(ctx context.Context, run string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+run, "-test.v", "-rapid.nofailfile", "-rapid.shrinktime="+childShrinkTime)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
