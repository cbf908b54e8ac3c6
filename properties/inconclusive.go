package properties

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// A check is inconclusive when the harness itself, not the server, could
// not do what the scenario asked in time: a client of the suite that
// cannot write its own requests within the bound although the server
// keeps reading them (a fragmenter with large messages, on a loaded
// machine). Such a check ends at once, as a violation would, but fails
// nothing and marks no server as stopped: the property's verdict counts
// it, and a property whose every check was inconclusive is skipped with
// the reason, never passed.

// inconclusive ends the check without a verdict on the server, for why.
func (e *env) inconclusive(why string) {
	e.mu.Lock()
	first := e.inconc == ""
	if first {
		e.inconc = why
	}
	e.mu.Unlock()
	if first {
		e.logf("INCONCLUSIVE: %s", why)
	}
}

// inconclusiveReason returns why the check was inconclusive, or "".
func (e *env) inconclusiveReason() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inconc
}

// sendFailed judges a client's failed write of its own requests (what,
// "3 requests"), begun at start when the connection had spent blocked0
// blocked on a full buffer. If the write spent most of its time blocked,
// the server stopped reading from a client that reads everything: a
// progress violation. If not, the harness was too slow to write its own
// requests while the server kept reading them: the check is inconclusive,
// never a failure of the server.
//
// A write can also block because the server is blocked writing to this
// very client, which is behind on reading (a fragmenter reads in short
// pieces): the server pushes back on a client that does not keep up, as it
// may. When the client's own receive buffer is at least half full at the
// end, that is what happened, and the check is inconclusive too.
func (e *env) sendFailed(c *client, what string, err error, start time.Time, blocked0 time.Duration) {
	took := time.Since(start)
	st := c.conn.Stats()
	blocked := st.WriteBlocked - blocked0
	if isTimeout(err) {
		switch {
		case blocked < took/2:
			e.inconclusive(fmt.Sprintf("%v could not write its own %s within %v (blocked on the server for %v of %v): the harness was too slow, not the server",
				c, what, e.bound, blocked.Round(time.Millisecond), took.Round(time.Millisecond)))
			return
		case st.Unread >= int64(e.cfg.bufSize)/2:
			e.inconclusive(fmt.Sprintf("%v could not write its %s within %v while %d bytes the server sent it were still unread: it pushed back on a client of the harness that read too slowly",
				c, what, e.bound, st.Unread))
			return
		}
	}
	e.violate(propProgress, "%v could not send %s: %v", c, what, err)
}

// isTimeout reports whether err is a deadline that ran out.
func isTimeout(err error) bool {
	te, ok := err.(interface{ Timeout() bool })
	return ok && te.Timeout()
}

// noteInconclusive counts an inconclusive check of property under, and
// keeps its first reason.
func (c *config) noteInconclusive(under, why string) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	c.run.inconclusive[under]++
	if _, ok := c.run.inconclusiveWhy[under]; !ok {
		c.run.inconclusiveWhy[under] = why
	}
}

// noteCheck counts a check of property under that ran to its verdict.
func (c *config) noteCheck(under string) {
	c.run.mu.Lock()
	c.run.ran[under]++
	c.run.mu.Unlock()
}

// inconclusiveChecks returns how many checks of under were inconclusive,
// of how many, and the first reason.
func (c *config) inconclusiveChecks(under string) (n, of int, why string) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	return c.run.inconclusive[under], c.run.ran[under], c.run.inconclusiveWhy[under]
}

// skipPhase says that a phase of the property under check could not run
// against this target, and why: the trace says it, and the property's
// verdict names it, so that a pass does not claim what it did not check.
func (e *env) skipPhase(phase, why string) {
	e.logf("%s skipped: %s", phase, why)
	e.cfg.run.mu.Lock()
	defer e.cfg.run.mu.Unlock()
	skipped := e.cfg.run.skippedPhases[e.prop]
	if slices.ContainsFunc(skipped, func(s skippedPhase) bool { return s.phase == phase }) {
		return // the first check that skipped it says why
	}
	e.cfg.run.skippedPhases[e.prop] = append(skipped, skippedPhase{phase, why})
}

// phaseRan says that a phase of the property under check, which other
// checks may have had to skip, ran in full in this one: the verdict then
// does not name it as not checked.
func (e *env) phaseRan(phase string) {
	e.cfg.run.mu.Lock()
	defer e.cfg.run.mu.Unlock()
	e.cfg.run.phasesRan[e.prop+"/"+phase] = true
}

// skippedPhase is a phase of a property that could not run, and why.
type skippedPhase struct{ phase, why string }

// noteHang records that Serve did not return after a check of property
// under: the first time in the Run.
func (c *config) noteHang(under, msg string) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	if c.run.hang == "" {
		c.run.hang = msg
	}
	if _, ok := c.run.hangs[under]; !ok {
		c.run.hangs[under] = msg
	}
}

// hung returns the first hang of the Run, or "".
func (c *config) hung() string {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	return c.run.hang
}

// verdictNote is what the verdict of property under did not cover.
func (c *config) verdictNote(under string) string {
	n, of, why := c.inconclusiveChecks(under)
	c.run.mu.Lock()
	phases, hang, fewer := c.run.skippedPhases[under], c.run.hangs[under], c.run.fewer[under]
	phases = slices.DeleteFunc(slices.Clone(phases), func(s skippedPhase) bool { return c.run.phasesRan[under+"/"+s.phase] })
	c.run.mu.Unlock()
	var notes []string
	if fewer {
		notes = append(notes, "fewer checks: an earlier property of this Run failed (RunAll() runs every property in full)")
	}
	if len(phases) > 0 {
		said := make([]string, len(phases))
		for i, s := range phases {
			said[i] = s.phase + " (" + s.why + ")"
		}
		notes = append(notes, "not checked: "+strings.Join(said, "; "))
	}
	if hang != "" {
		notes = append(notes, hang)
	}
	if n > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d checks inconclusive: %s", n, of, why))
	}
	if h := c.heapNote(under); h != "" {
		notes = append(notes, h)
	}
	if tn := c.timeNote(under); tn != "" {
		notes = append(notes, tn)
	}
	return strings.Join(notes, "; ")
}
