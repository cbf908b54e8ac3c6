package properties

import (
	"flag"
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
	if flagValue("rapid.v") == "true" || flagValue("rapid.log") == "true" {
		t.Skip("every check logs under -rapid.v and -rapid.log")
	}
	forceFlag(t, "rapid.shrinktime", "100ms")
	forceFlag(t, "rapid.nofailfile", "true") // a fail file would be replayed first, next time
	root := &cliT{name: "guard", out: io.Discard}
	var logged []bool
	root.do(func() {
		root.run("always fails", func(st suiteT) {
			rt := &rapidTB{suiteT: st}
			rapid.Check(rt, func(t *rapid.T) {
				rapid.IntRange(0, 1000).Draw(t, "n")
				logged = append(logged, t.Output() != io.Discard)
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

// The guard: the first two failures are rapid's first and its
// reproduction; after the shrink time, an attempt that failed where the
// reproduction did is owed its confirmation, which runs; one that failed
// elsewhere is not confirmed by rapid; after one that failed while a
// panic was in flight, the next check runs, whatever it is.
func TestShrinkTimeUp(t *testing.T) {
	forceFlag(t, "rapid.shrinktime", "1s")
	c := newConfig(nil)
	past := func() {
		c.run.mu.Lock()
		s := c.run.shrink["p"]
		s.from = s.from.Add(-2 * time.Second)
		c.run.shrink["p"] = s
		c.run.mu.Unlock()
	}
	var got []string
	check := func(what, failsAt string) {
		got = append(got, what+"="+map[bool]string{true: "skip", false: "run"}[c.shrinkTimeUp("p")])
		if failsAt != "" {
			c.run.mu.Lock()
			c.noteShrinkFailure("p", failsAt)
			c.run.mu.Unlock()
		}
	}
	check("first", "own")
	check("reproduced", "own")
	check("attempt", "")
	past()
	check("late", "")
	check("logged", "own") // skippable, but rapid kept its output: it ran, and failed
	check("confirmation", "own")
	check("next", "cut") // ran, as rapid kept its output, and failed elsewhere: rapid drops it
	check("then", "")
	check("logged2", "panicking/own")
	check("after a panic", "")
	check("last", "")
	want := "first=run reproduced=run attempt=run late=skip logged=skip confirmation=run next=skip then=skip logged2=skip after a panic=run last=skip"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// forceFlag sets flag name to value for the rest of t, whatever set it
// before. (setFlag leaves alone a flag that was set, as Run must: a test
// of the same process that set it with flag.Set, in an earlier round of
// -count, would make it a no-op here.)
func forceFlag(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag %s", name)
	}
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}
