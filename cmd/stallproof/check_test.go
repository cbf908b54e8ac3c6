package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestCheck: "stallproof check" passes the reference server and fails the
// two broken designs on progress, each served on a real port by
// "stallproof serve -design".
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range append(onProgress, checkCase{"broadcast-worker", 1, "progress     FAIL"}) {
		t.Run(tc.design, func(t *testing.T) {
			t.Parallel()
			attrs, stop := spawn(t, []string{"serve", "-design", tc.design, "-addr", "127.0.0.1:0"}, "addr")
			defer stop()
			out := tc.check(t, "on "+tc.design, "-addr", attrs["addr"])
			if tc.code != 0 && !strings.Contains(out, "server goroutines") && !strings.Contains(out, "violated") {
				t.Errorf("check on %s printed no report:\n%s", tc.design, tail(out))
			}
		})
	}
}

// A checkCase is a design "stallproof check" is run against, with the
// exit status and the line its output must have.
type checkCase struct {
	design string
	code   int
	want   string
}

// onProgress: the reference passes progress, lock-across-write fails it.
var onProgress = []checkCase{
	{"reference", 0, "progress     PASS"},
	{"lock-across-write", 1, "progress     FAIL"},
}

// check runs "stallproof check" with args, in a child process, and fails
// t unless it exits with tc.code and prints tc.want; it returns what it
// printed. what says what was checked, for the messages.
func (tc checkCase) check(t *testing.T, what string, args ...string) string {
	t.Helper()
	start := time.Now()
	// Next to no shrinking: a frozen server fails every shrink attempt at
	// the bound, so the default 8 s were spent on a scenario that shrinks
	// no further; what is checked here is the command's exit and report,
	// not the shrinker (rapid still reproduces the failure and replays it).
	code, out, errs := runChild(t, []string{shrinkTimeEnv + "=" + testShrinkTime}, append([]string{"check"}, args...)...)
	t.Logf("check %s: exit %d in %.1fs", what, code, time.Since(start).Seconds())
	if code != tc.code || !strings.Contains(out, tc.want) {
		t.Fatalf("check %s: exit %d, want %d and %q:\n%s\n%s", what, code, tc.code, tc.want, tail(out), errs)
	}
	return out
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// TestCheckBadInput: a non-loopback address, an address where nothing
// listens, and bad flags are each a clear error and exit status 2, and
// nothing is left running.
func TestCheckBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "-addr", "10.1.2.3:9000"}, "not a loopback address"},
		{[]string{"check", "-addr", freeAddr(t)}, "nothing accepts connections at"},
		{[]string{"check", "-checks", "0"}, "stallproof check: -checks: want at least 1, got 0"},
		{[]string{"check", "-request", "PING"}, "give both"},
		{[]string{"check", "-bound", "-1s"}, "-bound"},
	} {
		var code int
		_, errs := capture(t, func() { code = run(context.Background(), tc.args) })
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
