package load

import (
	"testing"
	"time"
)

func TestRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    uint64
		d    time.Duration
		want float64
	}{
		{500, 2 * time.Second, 250},
		{3, 1500 * time.Millisecond, 2},
		{1, time.Millisecond, 1000},
		{0, time.Second, 0},
		{7, 0, 0},
		{7, -time.Second, 0},
	} {
		if got := Rate(tc.n, tc.d); got != tc.want {
			t.Errorf("Rate(%d, %v) = %v, want %v", tc.n, tc.d, got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 0, 0, 10, 10}, 10},
	} {
		in := append([]float64(nil), tc.xs...)
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.xs[i] {
				t.Errorf("Median modified its input: %v", tc.xs)
			}
		}
	}
}

// TestBetween checks one interval's arithmetic: counts are differences,
// rates use the measured span, latency quantiles cover only the interval.
func TestBetween(t *testing.T) {
	t.Parallel()
	prev := &counts{at: time.Second, votes: 100, tallies: 1000}
	for range 100 {
		prev.lat.Record(time.Millisecond)
	}
	cur := &counts{at: 1500 * time.Millisecond, votes: 400, tallies: 1600}
	cur.lat = prev.lat
	// 300 votes in the interval: 296 in 10 ns, then 20, 30, 40, 50 ns.
	// p99 is rank ceil(0.99·300) = 297: 20 ns; p99.9 is rank 300: 50 ns.
	for range 296 {
		cur.lat.Record(10)
	}
	for _, v := range []time.Duration{20, 30, 40, 50} {
		cur.lat.Record(v)
	}
	s := between(prev, cur)
	want := Sample{
		At: 1500 * time.Millisecond, Span: 500 * time.Millisecond,
		Votes: 300, VotesPerSec: 600,
		Tallies: 600, TalliesPerSec: 1200,
		P50: 10, P99: 20, Max: 50,
		TotalVotes: 400,
	}
	if s != want {
		t.Errorf("between:\n got %+v\nwant %+v", s, want)
	}
	lat, total := summary(prev, cur)
	if total != want {
		t.Errorf("summary sample:\n got %+v\nwant %+v", total, want)
	}
	if wantLat := (Latency{Count: 300, P50: 10, P90: 10, P99: 20, P999: 50, Max: 50}); lat != wantLat {
		t.Errorf("summary latency: got %+v, want %+v", lat, wantLat)
	}
}
