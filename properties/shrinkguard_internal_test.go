package properties

import (
	"io"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// rapid logs through the test it was given only the replay it shows at
// the end of a failure: the guard runs that check whatever the time. Were
// a later rapid to log other checks, this fails (and the guard would
// only skip less).
func TestOnlyTheFinalReplayLogs(t *testing.T) {
	if flagSet("rapid.v") || flagSet("rapid.log") {
		t.Skip("every check logs under -rapid.v and -rapid.log")
	}
	defer setFlag("rapid.shrinktime", "RAPID_SHRINKTIME", "100ms")()
	defer setFlag("rapid.nofailfile", "RAPID_NOFAILFILE", "true")() // a fail file would be replayed first, next time
	root := &cliT{name: "guard", out: io.Discard}
	var logged []bool
	root.do(func() {
		root.run("always fails", func(st suiteT) {
			rt := &rapidTB{suiteT: st}
			rapid.Check(rt, func(t *rapid.T) {
				rapid.IntRange(0, 1000).Draw(t, "n")
				logged = append(logged, rt.logs(t))
				t.Fatalf("fails")
			})
		})
	})
	if len(logged) < 3 {
		t.Fatalf("%d checks, want a failure, its reproduction, attempts and the replay", len(logged))
	}
	for i, l := range logged {
		if last := i == len(logged)-1; l != last {
			t.Errorf("check %d of %d: logged %v, want %v", i+1, len(logged), l, last)
		}
	}
}

// The guard's count: the first two failures are rapid's first and its
// reproduction; after them, an attempt that failed is owed its
// confirmation, which runs whatever the time.
func TestShrinkTimeUp(t *testing.T) {
	restore := setFlag("rapid.shrinktime", "RAPID_SHRINKTIME", "1s")
	defer restore()
	c := newConfig(nil)
	up := func() bool { return c.shrinkTimeUp("p") }
	fail := func() {
		c.run.mu.Lock()
		c.noteShrinkFailure("p")
		c.run.mu.Unlock()
	}
	past := func() {
		c.run.mu.Lock()
		s := c.run.shrink["p"]
		s.from = s.from.Add(-2 * time.Second)
		c.run.shrink["p"] = s
		c.run.mu.Unlock()
	}
	var got []string
	step := func(what string) { got = append(got, what+"="+map[bool]string{true: "up", false: "runs"}[up()]) }
	step("start")
	fail()
	step("first")
	fail()
	step("reproduced")
	past()
	step("late")
	fail()
	step("attempt failed")
	fail()
	step("confirmed")
	if want := "start=runs first=runs reproduced=runs late=up attempt failed=runs confirmed=up"; strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}
