package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Event kinds the timeline draws with marks of their own; any other kind
// is a diamond labelled with its kind.
const (
	EventBufferFull    = "buffer-full"    // a Write blocked on a full buffer
	EventServerBlocked = "server-blocked" // the server's socket to the client is full: its Write blocks
)

// A client's lane, from its top at y: two rows of labels, the bars of its
// requests, its line with replies below and pushes on it.
const (
	laneRow0   = 11 // baseline of the first row of labels
	laneRow1   = 21 // of the second
	laneBarY   = 26 // top of the request bars
	laneBarH   = 5
	laneBase   = 38  // the client's line
	labelCharW = 5.0 // mean width of a 9 px character
)

// reqBar is one write of requests (one request, or a burst) and when they
// were answered: a client's replies and errors answer its requests in
// order.
type reqBar struct {
	from     time.Duration
	to       time.Duration // the last answer; from if none
	n        int           // requests
	answered int
	errs     int // answers that were errors
	text     string
}

// pairRequests pairs a client's requests with its replies and errors, in
// order.
func pairRequests(marks []Mark) []reqBar {
	ms := slices.Clone(marks)
	slices.SortStableFunc(ms, func(a, b Mark) int { return cmp.Compare(a.At, b.At) })
	var bars []reqBar
	var queue []int // bars with requests still unanswered, oldest first
	for _, m := range ms {
		switch m.Kind {
		case MarkRequest:
			bars = append(bars, reqBar{from: m.At, to: m.At, n: max(m.Count, 1), text: m.Text})
			queue = append(queue, len(bars)-1)
		case MarkReply, MarkError:
			for k := max(m.Count, 1); k > 0 && len(queue) > 0; {
				b := &bars[queue[0]]
				took := min(k, b.n-b.answered)
				b.answered += took
				k -= took
				b.to = m.At
				if m.Kind == MarkError {
					b.errs += took
				}
				if b.answered == b.n {
					queue = queue[1:]
				}
			}
		}
	}
	return bars
}

// labeler places labels in a lane's two rows so that none overlaps
// another; a label with no room is left out (its mark keeps a tooltip).
type labeler struct {
	d    *drawing
	y    int
	used [2][][2]float64
}

// place writes text near x, after it (or, without room, before it), in
// the first row with room, trying the rows in the order given.
func (l *labeler) place(x float64, text, colour string, rows ...int) bool {
	w := labelWidth(text)
	for _, x0 := range []float64{x + 5, x - 5 - w} {
		if x0 >= tlPlotX-2 && x0+w <= tlWidth-2 && l.placeAt(x0, w, text, colour, rows) {
			return true
		}
	}
	return false
}

// placeAt writes text from x0 in the first of rows where w has room.
func (l *labeler) placeAt(x0, w float64, text, colour string, rows []int) bool {
	for _, row := range rows {
		if l.free(row, x0, x0+w) {
			l.used[row] = append(l.used[row], [2]float64{x0 - 3, x0 + w + 3})
			l.d.printf(`<text x="%.1f" y="%d" font-size="9" fill="%s">%s</text>`+"\n", x0, l.y+[]int{laneRow0, laneRow1}[row], colour, esc(text))
			return true
		}
	}
	return false
}

// labelWidth is the width a label takes.
func labelWidth(text string) float64 { return float64(len([]rune(text)))*labelCharW + 2 }

func (l *labeler) free(row int, x0, x1 float64) bool {
	for _, u := range l.used[row] {
		if x0 < u[1] && x1 > u[0] {
			return false
		}
	}
	return true
}

// client draws one client's lane, whose top is at y.
func (d *drawing) client(c Client, y int) {
	d.printf(`<g class="lane" id="lane-c%d">`+"\n", c.ID)
	defer d.printf("</g>\n")
	d.printf(`<text x="%d" y="%d" text-anchor="end" font-weight="bold" fill="%s">%s</text>`+"\n", tlLabelW, y+19, colText, esc(laneLabel(c)))
	d.printf(`<text x="%d" y="%d" text-anchor="end" font-size="10" fill="%s">%s</text>`+"\n", tlLabelW, y+33, colMuted,
		esc(fmt.Sprintf("wrote %s · read %s", fmtBytes(c.Wrote), fmtBytes(c.Read))))
	base := float64(y + laneBase)
	d.printf(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999999"/>`+"\n", tlPlotX, base, tlPlotX+tlPlotW, base)
	l := &labeler{d: d, y: y}
	for _, s := range c.Spans {
		d.span(s, y)
	}
	bars := pairRequests(c.Marks)
	// Labels by importance: what was never answered, what blocked, what
	// else happened to the connection, then bursts and faults in force.
	for _, b := range bars {
		if b.answered < b.n {
			d.openBar(b, y, l)
		}
	}
	events := slices.Clone(c.Events)
	slices.SortStableFunc(events, func(a, b Event) int { return eventRank(a.Kind) - eventRank(b.Kind) })
	for _, e := range events { // the marks first, so that no label covers one
		x, row := d.x(e.At), 0
		if e.Kind == EventServerBlocked {
			row = 1
		}
		l.used[row] = append(l.used[row], [2]float64{x - 5, x + 5})
	}
	rank := 0
	for ; rank < len(events) && eventRank(events[rank].Kind) == 0; rank++ {
		d.event(events[rank], y, l)
	}
	for _, s := range c.Spans {
		label := s.Kind // the fault itself is in the tooltip
		x := d.x(d.tMax)
		if s.To >= 0 {
			x = d.x(s.To)
		} else {
			label += ", never lifted →"
		}
		l.placeBefore(x, label, "#8a4a00", 1, 0)
	}
	for _, e := range events[rank:] {
		d.event(e, y, l)
	}
	d.answeredBars(bars, y, l)
	for _, m := range c.Marks {
		x := d.x(m.At)
		title := fmt.Sprintf("%s ms %s: %s", fmtMS(m.At), m.Kind, m.Text)
		if m.Count > 1 && m.Kind != MarkRequest {
			title = fmt.Sprintf("%d messages (%s) up to %s ms, the first: %s", m.Count, m.Kind, fmtMS(m.At), m.Text)
		}
		switch m.Kind {
		case MarkRequest:
			d.tick(x, base-4, -1, colRequest, title)
		case MarkReply:
			d.tick(x, base, 1, colReply, title)
		case MarkPush:
			d.dot(x, base, title)
		default:
			d.cross(x, base, title)
		}
	}
	if len(c.Marks) == 0 && len(c.Events) == 0 {
		d.printf(`<text x="%d" y="%.1f" font-size="9" fill="%s">no messages, no events</text>`+"\n", tlPlotX+4, base-4, colMuted)
	}
}

// placeBefore is place, but ending at x: a span's label at its end.
func (l *labeler) placeBefore(x float64, text, colour string, rows ...int) bool {
	w := labelWidth(text)
	x0 := x - 5 - w
	return x0 >= tlPlotX && l.placeAt(x0, w, text, colour, rows)
}

// span draws a fault in force as a shaded band.
func (d *drawing) span(s Span, y int) {
	x1 := d.x(s.From)
	x2 := d.x(d.tMax)
	title := fmt.Sprintf("%s %s from %s ms, never lifted", s.Kind, s.Text, fmtMS(s.From))
	if s.To >= 0 {
		x2 = d.x(s.To)
		title = fmt.Sprintf("%s %s from %s to %s ms", s.Kind, s.Text, fmtMS(s.From), fmtMS(s.To))
	}
	d.printf(`<rect class="span" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.22" stroke="%s" stroke-opacity="0.8"><title>%s</title></rect>`+"\n",
		x1, y+3, max(x2-x1, 1.5), tlLaneH-6, colSpan, colSpan, esc(title))
}

// openBar draws requests not all answered: answered ones as a solid bar,
// the rest as an open bar from when they were sent (or last answered) to
// the violation, labelled.
func (d *drawing) openBar(b reqBar, y int, l *labeler) {
	end := max(d.r.ViolationAt, b.to)
	x0, xa, x1 := d.x(b.from), d.x(b.to), d.x(end)
	if b.answered > 0 {
		d.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.55"/>`+"\n", x0, y+laneBarY, max(xa-x0, 1.5), laneBarH, colRequest)
	}
	label := "unanswered: " + b.text
	title := fmt.Sprintf("%s sent at %s ms, no answer by %s ms", b.text, fmtMS(b.from), fmtMS(end))
	if b.n > 1 {
		label = fmt.Sprintf("%d of %d unanswered", b.n-b.answered, b.n)
		title = fmt.Sprintf("%s: %d requests sent at %s ms, %d answered (the last at %s ms), %d not by %s ms", b.text, b.n, fmtMS(b.from), b.answered, fmtMS(b.to), b.n-b.answered, fmtMS(end))
	}
	top := float64(y + laneBarY)
	d.printf(`<path class="unanswered" d="M%.1f %.1fH%.1fM%.1f %.1fH%.1fM%.1f %.1fv%d" stroke="%s" stroke-width="1.5" stroke-dasharray="4 2" fill="none"><title>%s</title></path>`+"\n",
		xa, top, x1, xa, top+laneBarH, x1, xa, top, laneBarH, colViolation, esc(title))
	d.printf(`<path d="M%.1f %.1fl5 %.1fl-5 %.1f" stroke="%s" stroke-width="1.5" fill="none"/>`+"\n", x1-5, top-1.5, float64(laneBarH)/2+1.5, float64(laneBarH)/2+1.5, colViolation)
	if len([]rune(label)) > 48 {
		label = string([]rune(label)[:47]) + "…"
	}
	l.place(x0, label, colViolation, 1, 0)
}

// answeredBars draws answered requests as bars from sent to answered;
// bars closer than a few pixels are drawn as one, labelled with their
// number.
func (d *drawing) answeredBars(bars []reqBar, y int, l *labeler) {
	type agg struct {
		x0, x1     float64
		from, to   time.Duration
		n, errs, k int
		text       string
	}
	var aggs []agg
	for _, b := range bars {
		if b.answered < b.n {
			continue
		}
		x0, x1 := d.x(b.from), max(d.x(b.to), d.x(b.from)+1.5)
		if n := len(aggs); n > 0 && x0 <= aggs[n-1].x1+2 {
			a := &aggs[n-1]
			a.x1, a.to, a.n, a.errs, a.k = max(a.x1, x1), max(a.to, b.to), a.n+b.n, a.errs+b.errs, a.k+1
			continue
		}
		aggs = append(aggs, agg{x0, x1, b.from, b.to, b.n, b.errs, 1, b.text})
	}
	for _, a := range aggs {
		title := fmt.Sprintf("%s sent at %s ms, answered at %s ms", a.text, fmtMS(a.from), fmtMS(a.to))
		if a.n > 1 {
			title = fmt.Sprintf("%d requests sent from %s ms, all answered by %s ms", a.n, fmtMS(a.from), fmtMS(a.to))
		}
		if a.errs > 0 {
			title += fmt.Sprintf(", %d with an error", a.errs)
		}
		d.printf(`<rect class="request" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.55"><title>%s</title></rect>`+"\n",
			a.x0, y+laneBarY, a.x1-a.x0, laneBarH, colRequest, esc(title))
		if a.n > 1 {
			l.place(a.x0, fmt.Sprintf("%d requests", a.n), colRequest, 1, 0)
		}
	}
}

// eventRank orders events for their labels: the more telling first.
func eventRank(kind string) int {
	switch kind {
	case EventServerBlocked:
		return 0
	case EventBufferFull:
		return 1
	case "inject", "remove", "close":
		return 3
	}
	return 2
}

// event draws one event of a client's connection: a buffer that filled
// as a triangle, a blocked server as a square, any other kind as a
// diamond; each labelled where there is room, but injections and
// removals (which start and end the shaded spans) and the closes at the
// end of the check.
func (d *drawing) event(e Event, y int, l *labeler) {
	x := d.x(e.At)
	title := strings.TrimSpace(fmt.Sprintf("%s ms %s %s", fmtMS(e.At), e.Kind, e.Text))
	top := float64(y + 3)
	var label, colour string
	switch e.Kind {
	case EventBufferFull:
		d.printf(`<path class="buffer-full" d="M%.1f %.1fh9l-4.5 8z" fill="%s">%s</path>`+"\n", x-4.5, top, colBufferFull, tooltip(title))
		label, colour = "buffer full", colBufferFull
		if strings.Contains(e.Text, "server") {
			label = "buffer full (the server's Write)"
		}
	case EventServerBlocked:
		// A row lower than the other marks: a full buffer and the
		// blocked Write it causes come close together.
		d.printf(`<rect class="server-blocked" x="%.1f" y="%.1f" width="8" height="8" fill="%s">%s</rect>`+"\n", x-4, top+10, colBlocked, tooltip(title))
		label, colour = "server blocked", colBlocked
		if e.Text != "" {
			label += ": " + e.Text
		}
	case "close":
		d.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5">%s</line>`+"\n", x, top, x, top+8, colMuted, tooltip(title))
		if e.At < d.r.ViolationAt {
			label, colour = "closed", colMuted
		}
	default:
		d.diamond(x, top+4, title)
		if e.Kind != "inject" && e.Kind != "remove" {
			label, colour = strings.TrimSpace(e.Kind+" "+e.Text), colEvent
		}
	}
	if label == "" {
		return
	}
	if len([]rune(label)) > 60 {
		label = string([]rune(label)[:59]) + "…"
	}
	if e.Kind == EventServerBlocked {
		l.place(x, label, colour, 1, 0)
		return
	}
	l.place(x, label, colour, 0, 1)
}

// tick draws a vertical tick of 9 px from y, up (dir -1) or down (dir 1).
func (d *drawing) tick(x, y float64, dir int, colour, title string) {
	d.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5">%s</line>`+"\n", x, y, x, y+float64(dir)*9, colour, tooltip(title))
}

func (d *drawing) dot(x, y float64, title string) {
	d.printf(`<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s">%s</circle>`+"\n", x, y, colPush, tooltip(title))
}

func (d *drawing) cross(x, y float64, title string) {
	d.printf(`<path d="M%.1f %.1fl7 7m0 -7l-7 7" stroke="%s" stroke-width="2" fill="none">%s</path>`+"\n", x-3.5, y-3.5, colError, tooltip(title))
}

func (d *drawing) diamond(x, y float64, title string) {
	d.printf(`<path d="M%.1f %.1fl4 4l-4 4l-4 -4z" fill="%s">%s</path>`+"\n", x, y-4, colEvent, tooltip(title))
}
