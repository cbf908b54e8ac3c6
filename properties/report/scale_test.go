package report

import (
	"testing"
	"time"
)

func TestScaleCompressesIdleStretches(t *testing.T) {
	ms := time.Millisecond
	// A burst to 350 ms, nothing until 2350 ms.
	var points []time.Duration
	for at := 0 * ms; at <= 350*ms; at += 25 * ms {
		points = append(points, at)
	}
	points = append(points, 2350*ms)
	s := newScale(points, 2500*ms, 100, 500)
	if len(s.breaks()) != 1 {
		t.Fatalf("breaks %+v, want one between 350 and 2350 ms", s.breaks())
	}
	b := s.breaks()[0]
	if b.from <= 350*ms || b.to >= 2350*ms || b.x1-b.x0 != idleW {
		t.Errorf("break %+v", b)
	}
	if burst := s.x(350*ms) - s.x(0); burst < 250 {
		t.Errorf("the burst gets %.0f of 500 px, want most of it", burst)
	}
	if s.x(0) != 100 || s.x(2500*ms) != 600 {
		t.Errorf("ends at %.1f and %.1f, want 100 and 600", s.x(0), s.x(2500*ms))
	}
	prev := -1.0
	for at := time.Duration(0); at <= 2500*ms; at += ms {
		x := s.x(at)
		if x < prev {
			t.Fatalf("x(%v) = %.2f < x of an earlier time %.2f", at, x, prev)
		}
		prev = x
	}
	// Ticks are on round numbers, in order, never inside the break.
	last := -1.0
	for _, v := range s.ticks() {
		if v <= last || (fromMS(v) > b.from && fromMS(v) < b.to) {
			t.Errorf("ticks %v", s.ticks())
			break
		}
		last = v
	}
}

func TestScaleEvenActivityIsToScale(t *testing.T) {
	var points []time.Duration
	for at := time.Duration(0); at <= time.Second; at += 100 * time.Millisecond {
		points = append(points, at)
	}
	s := newScale(points, time.Second, 0, 1000)
	if len(s.breaks()) != 0 {
		t.Errorf("breaks %+v in evenly spread activity", s.breaks())
	}
	if x := s.x(250 * time.Millisecond); x != 250 {
		t.Errorf("x(250ms) = %v, want 250 (to scale)", x)
	}
}
