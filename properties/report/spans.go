package report

import (
	"strings"
	"time"
)

// lasting maps the name of a faultnet fault that stays in force until
// removed to the kind of span it draws.
var lasting = []struct{ prefix, kind string }{
	{"StallReads(", "stall"},
	{"BlockWrites(", "blocked writes"},
	{"TrickleReads(", "trickle"},
	{"TrickleWrites(", "trickle"},
	{"Bandwidth(", "bandwidth"},
	{"Latency(", "latency"},
	{"ShortReads(", "short reads"},
	{"ShortWrites(", "short writes"},
	{"RandomShortReads(", "short reads"},
	{"RandomShortWrites(", "short writes"},
}

func lastingKind(fault string) (string, bool) {
	for _, l := range lasting {
		if strings.HasPrefix(fault, l.prefix) {
			return l.kind, true
		}
	}
	return "", false
}

// SpansFromEvents derives the faults in force over a time from a
// connection's fault log (faultnet's events, in order): a lasting fault
// (StallReads(), TrickleReads(...), Latency(...), ...) is in force from
// its "inject" — or, when scheduled (AfterTime(1s, StallReads())), from
// its "fire" — to the "remove" of the same injection, or to the end
// ([Unlifted]) if it was never removed. One-off faults (Reset(),
// HalfCloseWrite(), ...) and the other events make no span; draw them as
// events.
func SpansFromEvents(events []Event) []Span {
	var spans []Span
	type pending struct {
		span  int    // index in spans
		text  string // the injected fault, or the fired one
		fired bool
	}
	var open []pending // in the order they opened
	lift := func(match func(p pending) bool, at time.Duration) bool {
		for i, p := range open {
			if match(p) {
				spans[p.span].To = at
				open = append(open[:i], open[i+1:]...)
				return true
			}
		}
		return false
	}
	for _, e := range events {
		switch e.Kind {
		case "inject", "fire":
			if kind, ok := lastingKind(e.Text); ok {
				spans = append(spans, Span{From: e.At, To: Unlifted, Kind: kind, Text: e.Text})
				open = append(open, pending{len(spans) - 1, e.Text, e.Kind == "fire"})
			}
		case "remove":
			// The injection's own span, else the span of a scheduled
			// fault it held (whose text is inside the schedule's).
			if !lift(func(p pending) bool { return !p.fired && p.text == e.Text }, e.At) {
				lift(func(p pending) bool { return p.fired && strings.Contains(e.Text, p.text) }, e.At)
			}
		}
	}
	return spans
}
