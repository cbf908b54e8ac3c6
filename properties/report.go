package properties

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties/report"
)

// report formats everything a failure needs, in the protocol's words: the
// property, the violation, the steps taken, each client's role, kind, last
// messages and fault events, and the server goroutines that were stuck.
func (e *env) report(prop, violation string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "property %q violated: %s\n", prop, violation)
	fmt.Fprintf(&b, "protocol %s, %s, bound %v", e.proto.Name, e.transportDesc(), e.bound)
	if e.bound != e.cfg.bound {
		fmt.Fprintf(&b, " (a probe bound while shrinking; the first failure was at %v)", e.cfg.bound)
	}
	clock := ""
	if e.virtual {
		clock = " of virtual time"
	}
	fmt.Fprintf(&b, ", scenario of %d steps (%d drawn by rapid); first violation after %.2fs (%.2fs%s into this check)\n",
		len(e.trace), e.steps, e.cfg.sinceStart(e.prop).Seconds(), e.violatedAt.Seconds(), clock)
	b.WriteString("steps:\n")
	for _, s := range e.trace {
		fmt.Fprintf(&b, "  %6.3fs %s\n", s.at.Seconds(), s.text)
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
		if at := c.serverBlockedAt.Load(); at != 0 {
			fmt.Fprintf(&b, "      t=%v server-blocked: the kernel showed the server's writes to it blocked\n", time.Duration(at).Round(time.Microsecond))
		}
		for _, conn := range conns {
			writeEvents(&b, connEvents(conn))
		}
	}
	switch {
	case !e.target.inProcess():
		fmt.Fprintf(&b, "server goroutines: not shown: %s (the suite's own goroutines are not the server's)\n", e.target.elsewhere())
	case e.stacks != "":
		b.WriteString("server goroutines when the first violation was seen:\n")
		b.WriteString(e.stacks)
	}
	return b.String()
}

// reportData is the report as data, for the files a failure leaves in
// STALLPROOF_REPORT_DIR (package report): the same facts as the text.
func (e *env) reportData(prop, violation string) *report.Report {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &report.Report{
		Property:       prop,
		Violation:      violation,
		Protocol:       e.proto.Name,
		Transport:      e.cfg.transport.String(),
		Bound:          e.bound,
		FirstViolation: e.cfg.sinceStart(e.prop),
		ViolationAt:    e.violatedAt,
		Goroutines:     e.stacks,
		Stacks:         e.groups,
	}
	if !e.target.listens() {
		r.Transport = e.transportDesc()
	}
	for _, s := range e.trace {
		r.Steps = append(r.Steps, report.Step{At: s.at, Text: s.text})
	}
	for _, c := range e.clients {
		rc := report.Client{ID: c.id, Kind: c.kind.String(), Role: c.role.Name, Last: c.lastLines()}
		for _, conn := range c.connections() {
			st := conn.Stats()
			rc.Wrote += st.Written
			rc.Read += st.Read
			for _, ev := range connEvents(conn) {
				rc.Events = append(rc.Events, report.Event{At: c.dialedAt + ev.At, Kind: ev.Kind.String(), Text: eventText(c, conn, ev)})
			}
		}
		rc.Spans = report.SpansFromEvents(rc.Events)
		c.mu.Lock()
		for _, m := range c.marks {
			if m.kind == serverBlockedKind {
				// Seen in the kernel, not sent or received: an event of
				// the connection, as buffer-full is.
				rc.Events = append(rc.Events, report.Event{At: m.at, Kind: m.kind, Text: m.text})
				continue
			}
			rc.Marks = append(rc.Marks, report.Mark{At: m.at, Kind: m.kind, Text: m.text, Count: m.count})
		}
		c.mu.Unlock()
		r.Clients = append(r.Clients, rc)
	}
	if r.ViolationAt == 0 && len(r.Steps) > 0 {
		r.ViolationAt = r.Steps[len(r.Steps)-1].At
	}
	return r
}

// transportDesc names the network the clients used.
func (e *env) transportDesc() string {
	if !e.target.listens() {
		d := "spliced to " + e.target.String()
		if kv := e.target.kernel(); kv != nil {
			for _, n := range kv.notes {
				d += "; " + n
			}
		}
		return d
	}
	return "transport " + e.cfg.transport.String()
}

// connEvents is conn's fault log and, in memory, where the server's end
// of it filled the buffer: the server's Write to this client blocked.
func connEvents(conn *faultnet.Conn) []faultnet.Event {
	evs := conn.Events()
	if p := conn.Peer(); p != nil {
		for _, ev := range p.Events() {
			if ev.Kind == faultnet.EventBufferFull {
				evs = append(evs, ev)
			}
		}
		slices.SortStableFunc(evs, func(a, b faultnet.Event) int { return cmp.Compare(a.At, b.At) })
	}
	return evs
}

// eventText is an event's detail for the timeline: the fault, or whose
// Write blocked on a full buffer, and where.
func eventText(c *client, conn *faultnet.Conn, ev faultnet.Event) string {
	if ev.Kind != faultnet.EventBufferFull {
		return ev.Detail
	}
	who := fmt.Sprintf("c%d's Write", c.id)
	if ev.Conn != conn.String() {
		who = fmt.Sprintf("the server's Write to c%d", c.id)
	}
	return fmt.Sprintf("%s blocked at byte %d", who, ev.Byte)
}

// eventsShown is how many events of one kind a connection's report shows,
// the first ones; the rest are counted on one line, with the last.
const eventsShown = 3

// writeEvents writes a connection's events, but closes, one a line: at
// most eventsShown of each kind, then one line that counts the others of
// that kind and shows the last (a client whose buffer filled 500 times
// takes two lines, not 500).
func writeEvents(b *strings.Builder, evs []faultnet.Event) {
	count := map[faultnet.EventKind]int{}
	last := map[faultnet.EventKind]faultnet.Event{}
	for _, ev := range evs {
		count[ev.Kind]++
		last[ev.Kind] = ev
	}
	seen := map[faultnet.EventKind]int{}
	for _, ev := range evs {
		if ev.Kind == faultnet.EventClose {
			continue
		}
		seen[ev.Kind]++
		switch n := seen[ev.Kind]; {
		case n <= eventsShown:
			fmt.Fprintf(b, "      %v\n", ev)
		case n == eventsShown+1:
			fmt.Fprintf(b, "      ... %d more %v events, the last: %v\n", count[ev.Kind]-eventsShown, ev.Kind, last[ev.Kind])
		}
	}
}
