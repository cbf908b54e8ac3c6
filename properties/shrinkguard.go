package properties

import (
	"flag"
	"io"
	"strings"
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
// attempt at once), until rapid stops shrinking. Some checks still run:
// rapid's confirmation of an attempt that failed as the failure being
// shrunk did (skipped, rapid would call the failure flaky), and every
// check whose output rapid keeps (the replay it shows at the end, the run
// it writes into a fail file, every check under -rapid.v or -rapid.log).
//
// rapid confirms an attempt when its failure's traceback is the same as
// the failure's it shrinks (the reproduction of the first): the same
// line of the verdict, reached the same way. failSite names both, so the
// guard knows which failed attempts rapid will confirm: after such a one,
// the next check runs. An attempt that failed while rapid's own panic was
// in flight has a traceback that depends on where rapid panicked, which
// the guard cannot tell: the check after it runs too, whatever it is.

// shrinkState is what the guard knows of one property's shrinking.
type shrinkState struct {
	fails int       // failed checks so far
	from  time.Time // when shrinking began: the end of the second failed check, rapid's reproduction of the first
	site  string    // the reproduction's failSite
	owed  bool      // the last failed check, at site, is owed rapid's confirmation, which comes next
	force bool      // the next check runs: it may be a confirmation
}

// failSite is where a check failed, as rapid's traceback tells: the line
// of the verdict (site), reached straight or while a panic was in flight.
// A failure in a bubble reaches rapid from the line that raises it again
// outside (raise), whatever its site: from the check's end, or from the
// watchdog.
func (e *env) failSite(site string) string {
	switch {
	case e.failPath == "watchdog":
		return "watchdog"
	case e.virtual:
		return "bubble"
	case e.failPath != "":
		return e.failPath + "/" + site
	}
	return site
}

// noteShrinkFailure counts a failed check of property under, which failed
// at site (c.run.mu held).
func (c *config) noteShrinkFailure(under, site string) {
	s := c.run.shrink[under]
	s.fails++
	switch {
	case s.fails == 2:
		s.from, s.site = time.Now(), site
	case s.fails < 2:
	case strings.HasPrefix(site, "panicking/"):
		s.force = true
	case site == s.site:
		s.owed = !s.owed // an attempt, then its confirmation
	}
	c.run.shrink[under] = s
}

// shrinkTimeUp reports whether property under has shrunk for longer than
// rapid's shrink time, and the check about to run is not owed to rapid.
func (c *config) shrinkTimeUp(under string) bool {
	d, err := time.ParseDuration(flagValue("rapid.shrinktime"))
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	s := c.run.shrink[under]
	if s.force {
		s.force = false
		c.run.shrink[under] = s
		return false
	}
	return err == nil && s.fails >= 2 && !s.owed && time.Since(s.from) > d
}

// skipLateAttempt skips the check of t when it is a shrink attempt made
// after the shrink time (see above).
func (c *config) skipLateAttempt(t *rapid.T, under string) {
	if c.shrinkTimeUp(under) && t.Output() == io.Discard {
		t.SkipNow()
	}
}

// flagValue is the value of flag name, "" if there is none.
func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}
