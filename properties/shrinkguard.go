package properties

import (
	"flag"
	"time"

	"pgregory.net/rapid"
)

// Shrinking within its time: rapid (v1.3.0, shrink.go) looks at its
// shrink deadline (-rapid.shrinktime) between the blocks of data it
// minimises, not between the attempts on one block, which can number a
// hundred and more. Against a frozen server each attempt costs a probe
// bound, so one block could hold a Run 30 s past the deadline (a default
// Run of the blocking-queue mutant took 36 s, shrinking with 8 s).
//
// So, once a property's shrink time is up, its next shrink attempts are
// skipped (rapid counts a skipped check as invalid data, and drops the
// attempt at once), until rapid stops shrinking. Three checks still run:
// rapid's confirmation of an attempt that failed (rapid would call the
// failure flaky if it were skipped), the replay rapid logs at the end
// (it shows the failure), and every check under -rapid.v or -rapid.log,
// where every check logs and the replay cannot be told apart.

// shrinkState is what the guard knows of one property's shrinking.
type shrinkState struct {
	fails int       // failed checks so far
	from  time.Time // when shrinking began: the end of the second failed check, rapid's reproduction of the first
	owed  bool      // the last failed check was an attempt, whose confirmation comes next
}

// noteShrinkFailure counts a failed check of property under (c.run.mu
// held). The first two are rapid's first failure and its reproduction;
// after them, failures come in pairs: an attempt that failed, and rapid's
// confirmation of it.
func (c *config) noteShrinkFailure(under string) {
	s := c.run.shrink[under]
	s.fails++
	switch {
	case s.fails == 2:
		s.from = time.Now()
	case s.fails > 2:
		s.owed = !s.owed
	}
	c.run.shrink[under] = s
}

// shrinkTimeUp reports whether property under has shrunk for longer than
// rapid's shrink time, and the next check, if not owed a confirmation, is
// an attempt to skip.
func (c *config) shrinkTimeUp(under string) bool {
	if flagSet("rapid.v") || flagSet("rapid.log") {
		return false
	}
	d, err := time.ParseDuration(flagValue("rapid.shrinktime"))
	if err != nil {
		return false
	}
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	s := c.run.shrink[under]
	return s.fails >= 2 && !s.owed && time.Since(s.from) > d
}

// skipLateAttempt skips the check of t when it is a shrink attempt made
// after the shrink time (see above); rt is the test rapid was given,
// which tells whether rapid logs this check.
func (c *config) skipLateAttempt(t *rapid.T, rt *rapidTB, under string) {
	if c.shrinkTimeUp(under) && !rt.logs(t) {
		t.SkipNow()
	}
}

// replayMark is logged through a check's rapid.T to learn whether rapid
// logs it: rapidTB swallows it.
const replayMark = "\x00stallproof: does rapid log this check?"

// logs reports whether rapid passes t's log to rt: only for the replay it
// shows at the end (without -rapid.v).
func (rt *rapidTB) logs(t *rapid.T) bool {
	rt.marked.Store(false)
	t.Logf(replayMark)
	return rt.marked.Load()
}

// flagSet reports whether the boolean flag name is set to true.
func flagSet(name string) bool { return flagValue(name) == "true" }

// flagValue is the value of flag name, "" if there is none.
func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}
