package report

import (
	"math"
	"slices"
	"time"
)

// The time axis of a timeline. A failure often has a burst of activity,
// then a long wait in which nothing happens (the bound running out on a
// frozen server), then the violation. Drawn to scale, the burst would get
// a sliver of the picture; so a stretch with nothing in it that takes more
// than idleFrac of the time is drawn idleW pixels wide, marked as a break
// on the axis, and the rest of the time shares the width to scale.
const (
	idleFrac = 0.1
	idleW    = 56.0
	idlePad  = 0.02 // of the whole time, kept to scale on each side of a break
	tickGap  = 70.0 // least pixels between axis ticks
)

// segment is a stretch of the axis from one time to another, drawn from
// x0 to x1: to scale, or, if idle, at a fixed width.
type segment struct {
	from, to time.Duration
	x0, x1   float64
	idle     bool
}

type scale struct {
	segs []segment
	k    float64 // pixels per millisecond in the segments drawn to scale
}

// newScale lays out times 0..tMax over width pixels from x0, compressing
// the idle stretches between the given points in time (the times at which
// something is drawn).
func newScale(points []time.Duration, tMax time.Duration, x0, width float64) scale {
	pts := []time.Duration{0, tMax}
	for _, p := range points {
		if p > 0 && p < tMax {
			pts = append(pts, p)
		}
	}
	slices.Sort(pts)
	pts = slices.Compact(pts)

	pad := time.Duration(float64(tMax) * idlePad)
	type gap struct{ from, to time.Duration }
	var gaps []gap
	var idleTotal time.Duration
	for i := 1; i < len(pts); i++ {
		if a, b := pts[i-1], pts[i]; float64(b-a) > idleFrac*float64(tMax) {
			g := gap{a + pad, b - pad}
			if b == tMax {
				g.to = b // nothing after: the break runs to the edge
			}
			gaps = append(gaps, g)
			idleTotal += g.to - g.from
		}
	}
	active := tMax - idleTotal
	activeW := width - idleW*float64(len(gaps))
	s := scale{k: activeW / ms(active)}
	x, t := x0, time.Duration(0)
	for _, g := range gaps {
		if g.from > t {
			w := s.k * ms(g.from-t)
			s.segs = append(s.segs, segment{t, g.from, x, x + w, false})
			x += w
		}
		s.segs = append(s.segs, segment{g.from, g.to, x, x + idleW, true})
		x += idleW
		t = g.to
	}
	if t < tMax || len(s.segs) == 0 {
		s.segs = append(s.segs, segment{t, tMax, x, x0 + width, false})
	}
	return s
}

// x is where time t is drawn.
func (s scale) x(t time.Duration) float64 {
	for _, g := range s.segs {
		if t <= g.to {
			if t <= g.from || g.to == g.from {
				return g.x0
			}
			return g.x0 + (g.x1-g.x0)*float64(t-g.from)/float64(g.to-g.from)
		}
	}
	return s.segs[len(s.segs)-1].x1
}

// ticks returns the axis's ticks, in ms: round multiples of one step in
// the stretches drawn to scale, at least tickGap pixels apart.
func (s scale) ticks() []float64 {
	step := niceStep(tickGap / s.k)
	var ts []float64
	last := math.Inf(-1)
	for _, g := range s.segs {
		if g.idle {
			continue
		}
		for v := math.Ceil(ms(g.from)/step) * step; v <= ms(g.to)+step/100; v += step {
			v = math.Round(v*1e6) / 1e6
			if x := s.x(fromMS(v)); x-last >= tickGap*0.6 {
				ts = append(ts, v)
				last = x
			}
		}
	}
	return ts
}

// breaks returns the idle stretches.
func (s scale) breaks() []segment {
	var out []segment
	for _, g := range s.segs {
		if g.idle {
			out = append(out, g)
		}
	}
	return out
}
