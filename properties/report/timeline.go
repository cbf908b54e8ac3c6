package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Timeline geometry, in pixels: 800 wide, the width of a pull-request
// comment.
const (
	tlWidth     = 800
	tlLabelW    = 190 // lane labels, right-aligned before the plot
	tlRight     = 24
	tlPlotX     = tlLabelW + 10
	tlPlotW     = tlWidth - tlPlotX - tlRight
	tlLaneH     = 50
	tlStepsH    = 30
	tlCharW     = 6.4 // mean width of a 12 px sans-serif character
	tlMonoW     = 6.0 // of a 10 px monospace one
	tlMaxWrap   = 4   // lines of violation text shown in the header
	tlWrapChars = 116 // characters of 12 px text across the picture
	tlMonoChars = 126 // of 10 px monospace text
	tlStepChars = 128 // of 11 px text
)

// Colours: marks by kind, fault spans, the violation.
const (
	colRequest    = "#1f5fbf"
	colReply      = "#1b8a3a"
	colPush       = "#7a5cb0"
	colError      = "#c00000"
	colSpan       = "#f28e2b"
	colEvent      = "#333333"
	colBufferFull = "#d4500f"
	colBlocked    = "#7b1020"
	colViolation  = "#c00000"
	colText       = "#222222"
	colMuted      = "#666666"
)

// WriteTimeline draws the report as an SVG picture, about 800 pixels
// wide: a header with the property, the violation and the run's settings;
// a lane of the scenario's steps; one lane per client, labelled with its
// ID, kind and role ("c3 stalled · subscriber") and bytes moved, where
// each request is a bar from sent to answered (open, up to the violation,
// when never answered; bursts as one bar), replies are ticks below the
// line, pushes dots, errors crosses, faults in force shaded bands, a
// buffer that filled a triangle, a server blocked on the client a square
// and any other event a diamond; the violation as a red vertical line; a
// time axis in milliseconds, where a long stretch with nothing in it (the
// bound running out on a frozen server) is drawn shortened, as a grey band
// labelled with its length and a break in the axis; every step in full;
// and the replay command. Labels never overlap; every mark carries its
// text as a tooltip (<title>). The output is SVG 1.1 with no scripts or
// external resources, and depends only on the report: the same report
// draws the same bytes.
func (r *Report) WriteTimeline(w io.Writer) error {
	d := newDrawing(r)
	_, err := io.WriteString(w, d.draw())
	return err
}

type drawing struct {
	r    *Report
	b    strings.Builder
	tMax time.Duration // right edge of the plot
	sc   scale
}

func newDrawing(r *Report) *drawing {
	points := []time.Duration{r.ViolationAt}
	for _, s := range r.Steps {
		points = append(points, s.At)
	}
	for _, c := range r.Clients {
		for _, m := range c.Marks {
			points = append(points, m.At)
		}
		for _, e := range c.Events {
			points = append(points, e.At)
		}
		for _, s := range c.Spans {
			points = append(points, s.From, s.To)
		}
	}
	end := slices.Max(points)
	// Room after the last thing drawn, and a round number at the edge.
	step := niceStep(ms(end+end/20) / 8)
	tMax := time.Duration(math.Ceil(ms(end+end/20)/step) * step * float64(time.Millisecond))
	if tMax <= 0 {
		tMax = time.Millisecond
	}
	return &drawing{r: r, tMax: tMax, sc: newScale(points, tMax, tlPlotX, tlPlotW)}
}

func (d *drawing) x(t time.Duration) float64 {
	return d.sc.x(min(max(t, 0), d.tMax))
}

func (d *drawing) printf(format string, args ...any) { fmt.Fprintf(&d.b, format, args...) }

func (d *drawing) draw() string {
	r := d.r
	// Header: title, violation (wrapped), settings, legend.
	violation := wrap(r.Violation, tlWrapChars)
	if len(violation) > tlMaxWrap {
		violation = append(violation[:tlMaxWrap-1], "… (see report.json)")
	}
	meta := d.meta()
	headerH := 30 + 16*len(violation) + 18 + 22 + 18 // title, violation, meta, legend (two rows)
	lanesTop := headerH + 18                         // the violation's label above the lanes
	lanesH := tlStepsH + tlLaneH*len(r.Clients)
	axisY := lanesTop + lanesH
	replay := wrap("replay: "+r.Replay, tlMonoChars)
	if r.Replay == "" {
		replay = nil
	}
	stepList := d.stepList()
	height := axisY + 40 + 14*len(stepList) + 8 + 13*len(replay) + 8

	d.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", tlWidth, height, tlWidth, height)
	d.printf(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", tlWidth, height)
	d.printf(`<text x="12" y="22" font-size="15" font-weight="bold" fill="%s">%s</text>`+"\n", colText,
		esc(fmt.Sprintf("%s violated at %s ms", orDash(r.Property), fmtMS(r.ViolationAt))))
	y := 30
	for _, line := range violation {
		y += 16
		d.printf(`<text x="12" y="%d" fill="%s">%s</text>`+"\n", y, colViolation, esc(line))
	}
	y += 18
	d.printf(`<text x="12" y="%d" fill="%s">%s</text>`+"\n", y, colMuted, esc(meta))
	y += 22
	d.legend(y)

	// Lane backgrounds, grid, then the scenario's steps and the clients.
	d.lanes(lanesTop)
	d.grid(lanesTop, axisY)
	d.steps(lanesTop)
	for i, c := range r.Clients {
		d.client(c, lanesTop+tlStepsH+i*tlLaneH)
	}

	// The violation, over everything.
	vx := d.x(r.ViolationAt)
	d.printf(`<line class="violation" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"><title>%s</title></line>`+"\n",
		vx, lanesTop-14, vx, axisY, colViolation, esc(r.Violation))
	label := "violation " + fmtMS(r.ViolationAt) + " ms"
	anchor, lx := "start", vx+5
	if vx+5+float64(len(label))*tlCharW > tlWidth-4 {
		anchor, lx = "end", vx-5
	}
	d.printf(`<text x="%.1f" y="%d" text-anchor="%s" font-weight="bold" fill="%s">%s</text>`+"\n", lx, lanesTop-4, anchor, colViolation, esc(label))

	d.axis(axisY)
	y = axisY + 40
	for _, line := range stepList {
		y += 14
		d.printf(`<text x="12" y="%d" font-size="11" fill="%s" xml:space="preserve">%s</text>`+"\n", y, colText, esc(line))
	}
	y += 8
	for _, line := range replay {
		y += 13
		d.printf(`<text x="12" y="%d" font-family="monospace" font-size="10" fill="%s">%s</text>`+"\n", y, colText, esc(line))
	}
	d.printf("</svg>\n")
	return d.b.String()
}

func (d *drawing) meta() string {
	r := d.r
	parts := []string{}
	if r.Protocol != "" {
		parts = append(parts, "protocol "+r.Protocol)
	}
	if r.Transport != "" {
		parts = append(parts, r.Transport)
	}
	if r.Seed != 0 {
		parts = append(parts, fmt.Sprintf("seed %d", r.Seed))
	}
	if r.Bound > 0 {
		parts = append(parts, "bound "+r.Bound.String())
	}
	parts = append(parts, fmt.Sprintf("%d clients, %d steps", len(r.Clients), len(r.Steps)))
	if r.FirstViolation > 0 {
		parts = append(parts, fmt.Sprintf("found after %.1f s", r.FirstViolation.Seconds()))
	}
	return strings.Join(parts, " · ")
}

func (d *drawing) legend(y int) {
	x := 12.0
	item := func(symbol func(x, y float64), text string) {
		w := 12 + float64(len([]rune(text)))*tlCharW + 18
		if x+w > tlWidth-12 {
			x, y = 12, y+18
		}
		symbol(x, float64(y)-4)
		d.printf(`<text x="%.1f" y="%d" fill="%s">%s</text>`+"\n", x+12, y, colText, esc(text))
		x += w
	}
	item(func(x, y float64) {
		d.printf(`<rect x="%.1f" y="%.1f" width="10" height="5" fill="%s" fill-opacity="0.55"/>`+"\n", x-1, y-2, colRequest)
	}, "request, sent → answered")
	item(func(x, y float64) {
		d.printf(`<path d="M%.1f %.1fh10m-10 5h10" stroke="%s" stroke-width="1.5" stroke-dasharray="4 2"/>`+"\n", x-1, y-2, colViolation)
	}, "unanswered")
	item(func(x, y float64) { d.tick(x+4, y-6, 1, colReply, "") }, "reply")
	item(func(x, y float64) { d.dot(x+4, y, "") }, "push")
	item(func(x, y float64) { d.cross(x+4, y, "") }, "error")
	item(func(x, y float64) {
		d.printf(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s" fill-opacity="0.3" stroke="%s"/>`+"\n", x-1, y-5, colSpan, colSpan)
	}, "fault in force")
	item(func(x, y float64) {
		d.printf(`<path d="M%.1f %.1fh9l-4.5 8z" fill="%s"/>`+"\n", x-0.5, y-4, colBufferFull)
	}, "buffer full")
	item(func(x, y float64) {
		d.printf(`<rect x="%.1f" y="%.1f" width="8" height="8" fill="%s"/>`+"\n", x, y-4, colBlocked)
	}, "server blocked")
	item(func(x, y float64) { d.diamond(x+4, y, "") }, "other event")
	item(func(x, y float64) {
		d.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", x+4, y-6, x+4, y+6, colViolation)
	}, "violation")
}

func (d *drawing) lanes(top int) {
	d.printf(`<text x="%d" y="%d" text-anchor="end" fill="%s">scenario steps</text>`+"\n", tlLabelW, top+tlStepsH/2+4, colMuted)
	for i := range d.r.Clients {
		if i%2 == 0 {
			d.printf(`<rect x="0" y="%d" width="%d" height="%d" fill="#f4f6f8"/>`+"\n", top+tlStepsH+i*tlLaneH, tlWidth, tlLaneH)
		}
	}
}

// laneLabel is "c3 stalled · subscriber".
func laneLabel(c Client) string {
	s := fmt.Sprintf("c%d", c.ID)
	if c.Kind != "" {
		s += " " + c.Kind
	}
	if c.Role != "" {
		s += " · " + c.Role
	}
	return s
}

// grid draws the ticks' lines across the lanes, and the breaks in the
// time axis as grey bands.
func (d *drawing) grid(top, bottom int) {
	for _, t := range d.sc.ticks() {
		x := d.x(fromMS(t))
		d.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#dddddd"/>`+"\n", x, top, x, bottom)
	}
	for _, g := range d.sc.breaks() {
		d.printf(`<rect class="break" x="%.1f" y="%d" width="%.1f" height="%d" fill="#e8e8e8" fill-opacity="0.7"><title>%s ms with nothing new, drawn shortened</title></rect>`+"\n",
			g.x0, top, g.x1-g.x0, bottom-top, fmtMS(g.to-g.from))
		d.printf(`<text x="%.1f" y="%d" text-anchor="middle" font-size="10" fill="%s">+%s ms</text>`+"\n", (g.x0+g.x1)/2, top+11, colMuted, fmtMS(g.to-g.from))
	}
}

func (d *drawing) axis(y int) {
	d.printf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", tlPlotX, y, tlPlotX+tlPlotW, y)
	for _, t := range d.sc.ticks() {
		x := d.x(fromMS(t))
		d.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", x, y, x, y+4)
		d.printf(`<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="%s">%s</text>`+"\n", x, y+16, colText, fmtG(t))
	}
	// A break: the axis cut by two slanted strokes, and how long it is.
	for _, g := range d.sc.breaks() {
		mid := (g.x0 + g.x1) / 2
		d.printf(`<rect x="%.1f" y="%d" width="8" height="6" fill="#ffffff"/>`+"\n", mid-4, y-3)
		for _, dx := range []float64{-4, 2} {
			d.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", mid+dx, y+5, mid+dx+3, y-5)
		}
	}
	d.printf(`<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="%s">ms since the check started</text>`+"\n", tlPlotX+tlPlotW/2, y+32, colMuted)
}

// steps draws the scenario's steps as ticks numbered where there is
// room; stepList spells them out under the axis.
func (d *drawing) steps(top int) {
	mid := float64(top + tlStepsH/2)
	d.printf(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#bbbbbb"/>`+"\n", tlPlotX, mid+6, tlPlotX+tlPlotW, mid+6)
	free := 0.0
	for i, s := range d.r.Steps {
		x := d.x(s.At)
		d.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"><title>%s</title></line>`+"\n", x, mid, x, mid+10, colText, esc(fmt.Sprintf("%s ms: %s", fmtMS(s.At), s.Text)))
		n := fmt.Sprint(i + 1)
		if x-3 >= free {
			d.printf(`<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="%s">%s</text>`+"\n", x, mid-3, colMuted, n)
			free = x + float64(len(n))*5.4 + 2
		}
	}
}

// stepList is the scenario's steps as lines of text, each step whole,
// wrapped under its number: "3. 6 ms  connect c2". Past 40 steps, the
// middle ones are elided (report.json has them all).
func (d *drawing) stepList() []string {
	type item struct {
		n    int
		step Step
	}
	var items []item
	for i, s := range d.r.Steps {
		items = append(items, item{i + 1, s})
	}
	elided := 0
	if len(items) > 40 {
		elided = len(items) - 39
		items = slices.Concat(items[:20], items[len(items)-19:])
	}
	var lines []string
	for i, it := range items {
		if elided > 0 && i == 20 {
			lines = append(lines, fmt.Sprintf("… %d more steps (report.json)", elided))
		}
		head := fmt.Sprintf("%d. %s ms  ", it.n, fmtMS(it.step.At))
		indent := strings.Repeat(" ", len([]rune(head)))
		for j, part := range wrap(it.step.Text, tlStepChars-len([]rune(head))) {
			if j == 0 {
				lines = append(lines, head+part)
			} else {
				lines = append(lines, indent+part)
			}
		}
	}
	return lines
}
