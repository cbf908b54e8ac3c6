package properties

import (
	"strings"
	"sync"
)

// Side by side: a Run of a server on the suite's own listener (Run, not
// RunAddr, RunDial or RunExec) runs the checks of some properties at the
// same time, each check on its own listener with its own Serve call, so
// that the time one check spends waiting on a clock (a bound, a server's
// pacing) is spent on another's. A property whose check measures the
// whole process runs alone: it says why in its property's alone field.

// OneAtATime runs the properties of a Run one after another, never two
// side by side: for a server whose Serve calls share state (a
// package-level hub or registry, a global counter), which the contract of
// ServeFunc rules out but a test may have to live with: checks side by
// side would see each other's clients there.
func OneAtATime() Option {
	return option("OneAtATime()", func(c *config) { c.oneAtATime = true })
}

// stages splits the Run's properties, in their order, into the stages
// that run one after another: consecutive properties that may share the
// process form one stage, whose properties run side by side when side
// is set; any other property is a stage of its own.
func stages(props []string, side bool) [][]string {
	var out [][]string
	for _, name := range props {
		if n := len(out); side && n > 0 && shares(name) && shares(out[n-1][0]) {
			out[n-1] = append(out[n-1], name)
			continue
		}
		out = append(out, []string{name})
	}
	return out
}

// shares reports whether the checks of property name may run beside
// other properties' checks.
func shares(name string) bool {
	p, ok := properties[name]
	return ok && p.alone == ""
}

// sideBySide reports whether this Run may run properties side by side:
// it serves on the suite's own listeners, under go test (t runs
// subtests that may be called from several goroutines at once), goroutine
// dumps show labels (Go 1.26), so the leak checks can tell checks apart,
// and OneAtATime was not asked for.
func (c *config) sideBySide(t suiteT) bool {
	_, goTest := t.(goTest)
	return goTest && c.target == nil && c.labels && !c.oneAtATime
}

// runSideBySide runs each of fs as t's subtest names[i], all at the same
// time, and reports which passed.
func runSideBySide(t suiteT, names []string, fs []func(suiteT)) []bool {
	passed := make([]bool, len(names))
	if len(names) == 1 {
		passed[0] = t.run(names[0], fs[0])
		return passed
	}
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() { passed[i] = t.run(names[i], fs[i]) })
	}
	wg.Wait()
	return passed
}

// sideBySideNote is the Run's log line for a stage of names run side by
// side.
func sideBySideNote(names []string) string {
	return "side by side, each check on its own listener and Serve call (OneAtATime() runs them in turn): " + strings.Join(names, ", ")
}
