package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// The long tests (a whole check of the property suite) run the command in
// a child process, this test binary as the stallproof command (asMainEnv),
// so that they can run side by side: in this process they would share the
// package's stdout and stderr, which capture and background swap.

// shrinkTimeEnv, in a child, is the rapid.shrinktime it sets before it
// runs the command: check takes no rapid flags of its own.
const shrinkTimeEnv = "STALLPROOF_TEST_SHRINKTIME"

// testShrinkTime is the shrink time of a child whose failure's shrunk size
// is not what its test checks.
const testShrinkTime = "1ms"

// mainCommand is this test binary as the stallproof command with args,
// bound to ctx, with env added to the environment.
func mainCommand(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1"), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second // then killed, by its PID
	return cmd
}

// runChild runs the command line args in a child process, for six
// minutes at most, and returns its exit code and what it printed to stdout
// and stderr.
func runChild(t *testing.T, env []string, args ...string) (code int, out, errs string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute) // long: children run side by side, loaded
	defer cancel()
	var o, e bytes.Buffer
	cmd := mainCommand(ctx, env, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		code = exit.ExitCode()
	default:
		t.Fatalf("%q: %v (context: %v); stderr:\n%s", args, err, ctx.Err(), tail(e.String()))
	}
	return code, o.String(), e.String()
}

// spawn runs the command line args in a child process until the returned
// stop is called, or the test ends, and returns the values of the log
// attributes named in keys, read from its stderr. stop interrupts it, as
// SIGINT does, and kills it 10 s later if it has not exited.
func spawn(t *testing.T, args []string, keys ...string) (attrs map[string]string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := mainCommand(ctx, nil, args...)
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	stop = func() {
		cancel()
		<-done
	}
	attrs, seen := readAttrs(pr, keys)
	go func() {
		_, _ = io.Copy(io.Discard, pr)
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(stop)
	if len(attrs) < len(keys) {
		stop()
		t.Fatalf("%q: want %v in the log, got %q", args, keys, seen)
	}
	return attrs, stop
}

// attrRE matches a log attribute: key=value.
var attrRE = regexp.MustCompile(`(\w+)=(\S+)`)

// readAttrs reads log lines from r until it has seen the value of every
// attribute named in keys, or r ends; it returns the values found and the
// lines read.
func readAttrs(r io.Reader, keys []string) (attrs map[string]string, seen []string) {
	attrs = map[string]string{}
	logs := bufio.NewScanner(r)
	for len(attrs) < len(keys) && logs.Scan() {
		seen = append(seen, logs.Text())
		for _, m := range attrRE.FindAllStringSubmatch(logs.Text(), -1) {
			for _, k := range keys {
				if m[1] == k {
					attrs[k] = m[2]
				}
			}
		}
	}
	return attrs, seen
}
