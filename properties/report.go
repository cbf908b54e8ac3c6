package properties

import (
	"fmt"
	"strings"

	"github.com/stallproof/stallproof/faultnet"
)

// report formats everything a failure needs, in the protocol's words: the
// property, the violation, the steps taken, each client's role, kind, last
// messages and fault events, and the server goroutines that were stuck.
func (e *env) report(prop, violation string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "property %q violated: %s\n", prop, violation)
	fmt.Fprintf(&b, "protocol %s, transport %v, bound %v", e.proto.Name, e.cfg.transport, e.bound)
	if e.bound != e.cfg.bound {
		fmt.Fprintf(&b, " (a probe bound while shrinking; the first failure was at %v)", e.cfg.bound)
	}
	fmt.Fprintf(&b, ", scenario of %d steps; first violation after %.2fs (%.2fs into this check)\n",
		e.steps, e.cfg.sinceStart(e.prop).Seconds(), e.violatedAt.Seconds())
	b.WriteString("steps:\n")
	for _, s := range e.trace {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	b.WriteString("clients:\n")
	for _, c := range e.clients {
		var wrote, read, unsent int64
		conns := c.connections()
		for _, conn := range conns {
			st := conn.Stats()
			wrote, read, unsent = wrote+st.Written, read+st.Read, unsent+st.Unsent
		}
		fmt.Fprintf(&b, "  %v: wrote %d B, read %d B, %d B unsent; %d pushes; last messages %q\n",
			c, wrote, read, unsent, c.pushCount(), c.lastLines())
		for _, conn := range conns {
			for _, ev := range conn.Events() {
				if ev.Kind != faultnet.EventClose {
					fmt.Fprintf(&b, "      %v\n", ev)
				}
			}
		}
	}
	if e.stacks != "" {
		b.WriteString("server goroutines when the first violation was seen:\n")
		b.WriteString(e.stacks)
	}
	return b.String()
}
