package properties

import (
	"fmt"
	"strings"
)

// A server that speaks another protocol than its description (a reset
// before any reply, a greeting that never matches, answers that never
// classify as replies) fails every property, but that is no finding about
// the server: the description, or the address, is wrong. The suite tells
// the two apart by whether the server ever spoke as described: a request
// answered, or a greeting matched, in any check of the Run.

// MismatchError is what CheckAddr returns when the server never spoke the
// protocol as described: no request was ever answered and no greeting
// ever matched. Its message says what the harness saw instead. The
// verdicts returned with it are those of the properties that ran.
type MismatchError struct{ msg string }

func (e *MismatchError) Error() string { return e.msg }

// noteSpoke records that the server answered a request or greeted a
// client as the description expects.
func (c *config) noteSpoke() {
	c.run.mu.Lock()
	c.run.spoke = true
	c.run.mu.Unlock()
}

// mismatch returns, after property name failed, the message for a server
// that never spoke the protocol as described, or "" if it did once (a
// violation, then) or if Serve returned on its own (its error says why).
func (c *config) mismatch(name string) string {
	c.run.mu.Lock()
	spoke := c.run.spoke
	c.run.mu.Unlock()
	f, ok := c.firstFailure(name)
	if spoke || !ok {
		return ""
	}
	saw := firstLine(f.msg)
	if strings.Contains(saw, "Serve returned while its context was live") {
		return ""
	}
	return fmt.Sprintf("could not speak %s to %v: no request was answered and no greeting matched as the description expects; the harness saw: %s", c.proto.Name, c.target, saw)
}
