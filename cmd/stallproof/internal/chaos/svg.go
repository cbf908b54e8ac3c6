package chaos

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// palette gives each design a line colour, in order; the reference first.
var palette = []string{"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"}

// WriteSVG draws votes/s over time, one line per design, with the moment
// the first client stalled (the first fault) marked. Hand-written SVG 1.1,
// no scripts, no external resources.
func WriteSVG(w io.Writer, rep *Report) error {
	const (
		width, height = 760, 380
		left, right   = 70, 190
		top, bottom   = 50, 50
		plotW         = width - left - right
		plotH         = height - top - bottom
	)
	maxY := 0.0
	for _, d := range rep.Designs {
		for _, r := range d.Rows {
			maxY = max(maxY, r.VotesPerSec)
		}
	}
	yTop, yStep := niceScale(maxY * 1.1)
	xMax := rep.Duration
	x := func(t float64) float64 { return left + plotW*t/xMax }
	y := func(v float64) float64 { return top + plotH*(1-v/yTop) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">Votes per second, each design under the same load</text>`+"\n", left)
	fmt.Fprintf(&b, `<text x="%d" y="38" fill="#555555">%s</text>`+"\n", left, html.EscapeString(subtitle(rep)))

	// Grid and axes.
	for v := 0.0; v <= yTop+yStep/2; v += yStep {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>`+"\n", left, y(v), left+plotW, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#333333">%s</text>`+"\n", left-6, y(v)+4, formatCount(v))
	}
	xStep := niceStep(xMax / 8)
	for t := 0.0; t <= xMax+xStep/100; t += xStep {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999999"/>`+"\n", x(t), top+plotH, x(t), top+plotH+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#333333">%gs</text>`+"\n", x(t), top+plotH+18, t)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", left, top, left, top+plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#333333">time since voting started</text>`+"\n", left+plotW/2, height-12)
	fmt.Fprintf(&b, `<text transform="translate(18 %d) rotate(-90)" text-anchor="middle" fill="#333333">votes/s</text>`+"\n", top+plotH/2)

	// The first fault.
	if first := firstFault(rep); first >= 0 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c00000" stroke-dasharray="5 4"/>`+"\n", x(first), top, x(first), top+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#c00000">%s</text>`+"\n", x(first)+5, top+14, html.EscapeString(firstFaultLabel(rep, first)))
	}

	// One line per design, the first drawn last (on top), and the legend.
	for i := len(rep.Designs) - 1; i >= 0; i-- {
		var pts []string
		for _, r := range rep.Designs[i].Rows {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(min(r.At, xMax)), y(r.VotesPerSec)))
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2.5" stroke-linejoin="round" points="%s"/>`+"\n", palette[i%len(palette)], strings.Join(pts, " "))
		}
	}
	for i, d := range rep.Designs {
		colour := palette[i%len(palette)]
		ly := top + 10 + 40*i
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", left+plotW+12, ly, left+plotW+32, ly, colour)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left+plotW+38, ly+4, html.EscapeString(d.Name))
		verdict := d.Verdict
		if d.FrozenAt >= 0 {
			verdict = fmt.Sprintf("%s at %.1fs", d.Verdict, d.FrozenAt)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555555">%s</text>`+"\n", left+plotW+38, ly+19, html.EscapeString(verdict))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func subtitle(rep *Report) string {
	return fmt.Sprintf("%d healthy clients at %s, %d faulty (%s) from %gs; %s; seed %d",
		rep.Healthy, rateDesc(rep.Rate), rep.Faulty, rep.Faults, rep.FaultAt, rep.Network, rep.Seed)
}

// firstFault is the earliest first fault over the designs, in seconds, or -1.
func firstFault(rep *Report) float64 {
	first := -1.0
	for _, d := range rep.Designs {
		if f := d.Result.FirstFault; f >= 0 && (first < 0 || f.Seconds() < first) {
			first = f.Seconds()
		}
	}
	return first
}

func firstFaultLabel(rep *Report, at float64) string {
	for _, d := range rep.Designs {
		if len(d.Result.Faults) > 0 {
			return fmt.Sprintf("first client %s (%.1fs)", verb(d.Result.Faults[0].Fault.String()), at)
		}
	}
	return fmt.Sprintf("first fault (%.1fs)", at)
}

func verb(fault string) string {
	switch fault {
	case "stall":
		return "stalls"
	case "trickle":
		return "trickles"
	case "halfclose":
		return "half-closes"
	case "reset":
		return "resets"
	}
	return fault
}

// niceScale returns an axis top >= v and a step of 1, 2 or 5 times a power
// of ten, giving about five gridlines.
func niceScale(v float64) (top, step float64) {
	if v <= 0 {
		return 1, 0.2
	}
	step = niceStep(v / 5)
	return math.Ceil(v/step) * step, step
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func formatCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}
