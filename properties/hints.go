package properties

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
)

// hints are what the suite's messages tell the reader to do next: go
// test flags and Go options by default, or a command's flags (Hints).
type hints struct {
	runAll string                                    // what stands for RunAll()
	replay func(property string, seed uint64) string // the command that replays a failure; nil: go test
	seeds  *seedBook                                 // the seeds of rapid's failure messages, by property
}

// seedBook remembers the seed rapid reported for each failed property.
type seedBook struct {
	mu    sync.Mutex
	seeds map[string]uint64
}

func (b *seedBook) note(property string, seed uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seeds == nil {
		b.seeds = map[string]uint64{}
	}
	b.seeds[property] = seed
}

func (b *seedBook) get(property string) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seeds[property]
}

// Hints makes the suite's messages name the flags of the command that
// runs it through CheckAddr, instead of Go options and go test flags:
// runAll is what to say for RunAll() ("-run-all"), and replay returns the
// command that replays the failure of property found with rapid's seed.
// Every "To reproduce" line and every report's replay command then names
// flags that exist.
func Hints(runAll string, replay func(property string, seed uint64) string) Option {
	h := hints{runAll, replay, &seedBook{}} // shared by every config the option makes
	return option(fmt.Sprintf("Hints(%q, ...)", runAll), func(c *config) { c.hints = h })
}

func (h hints) runAllHint() string {
	if h.runAll != "" {
		return h.runAll
	}
	return "RunAll()"
}

// replayFor is the command that replays property's failure, or "" for go
// test's.
func (h hints) replayFor(property string, seed uint64) string {
	if h.replay == nil {
		return ""
	}
	if seed == 0 {
		seed = h.seeds.get(property)
	}
	return h.replay(property, seed)
}

// reproduceRE matches rapid's own hint, which names go test's flags: with
// a fail file, or without one.
var reproduceRE = regexp.MustCompile(`To reproduce, specify -run="[^"]*"(?: -rapid\.failfile="[^"]*" \(or -rapid\.seed=(\d+)\)| -rapid\.seed=(\d+))`)

// rewrite puts the command's replay in place of rapid's go test hint in a
// message logged under property, and notes the seed.
func (h hints) rewrite(property, msg string) string {
	if h.replay == nil {
		return msg
	}
	return reproduceRE.ReplaceAllStringFunc(msg, func(m string) string {
		sm := reproduceRE.FindStringSubmatch(m)
		seed, _ := strconv.ParseUint(sm[1]+sm[2], 10, 64)
		h.seeds.note(property, seed)
		return "To reproduce, run " + h.replay(property, seed)
	})
}
