package load

import (
	"testing"
	"time"
)

func TestHistSmallValuesAreExact(t *testing.T) {
	t.Parallel()
	var h Hist
	for v := 1; v <= 100; v++ {
		h.Record(time.Duration(v))
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.01, 1},
		{0.5, 50},  // rank 50: the value 50, below 64, exact
		{0.63, 63}, // the last exact bucket
		{0.9, 91},  // rank 90: 90 is in bucket [90, 91]
		{0.99, 99}, // rank 99: bucket [98, 99] (0.99·100 must not round to rank 100)
		{1, 101},   // rank 100: bucket [100, 101]
	} {
		if got := h.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	if h.Count() != 100 || h.Max() != 101 {
		t.Errorf("Count %d Max %d, want 100 and 101", h.Count(), h.Max())
	}
}

func TestHistMilliseconds(t *testing.T) {
	t.Parallel()
	var h Hist
	// 98 votes answered in 1 ms, one in 2 ms, one in 1 s.
	for range 98 {
		h.Record(time.Millisecond)
	}
	h.Record(2 * time.Millisecond)
	h.Record(time.Second)
	// 1,000,000 ns: 2^19 <= v < 2^20, buckets 2^14 wide; v>>14 = 61, so
	// the bucket is [61·16384, 62·16384) = [999424, 1015807].
	// 2,000,000 ns: buckets 2^15 wide, v>>15 = 61: [1998848, 2031615].
	// 1e9 ns: 2^29 <= v < 2^30, buckets 2^24 wide, v>>24 = 59:
	// [989855744, 1006632959].
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 1015807},
		{0.98, 1015807},
		{0.99, 2031615},
		{0.999, 1006632959},
		{1, 1006632959},
	} {
		if got := h.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
}

func TestHistEmptyAndExtremes(t *testing.T) {
	t.Parallel()
	var h Hist
	if h.Quantile(0.5) != 0 || h.Max() != 0 {
		t.Errorf("empty histogram: p50 %v max %v, want 0", h.Quantile(0.5), h.Max())
	}
	h.Record(-time.Second) // counts as 0
	h.Record(24 * time.Hour)
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("p50 = %v, want 0", got)
	}
	if got, want := h.Max(), time.Duration(1<<maxBits-1); got != want {
		t.Errorf("max = %d, want %d (the last bucket's bound)", got, want)
	}
	if got := h.Quantile(0); got != 0 {
		t.Errorf("Quantile(0) = %v, want the smallest value, 0", got)
	}
}

// TestBuckets checks the bucket layout: every value falls in the bucket
// whose range holds it, buckets tile the line without gaps, and each is at
// most 1/32 of its lower bound wide.
func TestBuckets(t *testing.T) {
	t.Parallel()
	var prevHi uint64
	for i := range numBuckets {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, prevHi+1)
		}
		if lo >= exact && (hi-lo+1)*half > lo {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/32 of %d", i, lo, hi, lo)
		}
		for _, v := range []uint64{lo, (lo + hi) / 2, hi} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
		prevHi = hi
	}
	if prevHi != 1<<maxBits-1 {
		t.Fatalf("last bucket ends at %d, want %d", prevHi, uint64(1<<maxBits-1))
	}
}

func TestHistAddSub(t *testing.T) {
	t.Parallel()
	var a, b Hist
	for v := 1; v <= 50; v++ {
		a.Record(time.Duration(v))
	}
	b = a
	for v := 51; v <= 100; v++ {
		b.Record(time.Duration(v))
	}
	d := b
	d.Sub(&a) // 51..100
	if d.Count() != 50 || d.Quantile(0.5) != 75 || d.Quantile(0.02) != 51 {
		t.Errorf("b-a: count %d p50 %d p2 %d, want 50, 75, 51", d.Count(), d.Quantile(0.5), d.Quantile(0.02))
	}
	d.Add(&a)
	if d != b {
		t.Errorf("(b-a)+a != b")
	}
	var r recorder
	r.record(7)
	r.record(7)
	var h Hist
	r.addTo(&h)
	if h.Count() != 2 || h.Quantile(1) != 7 {
		t.Errorf("recorder: count %d max %d, want 2 and 7", h.Count(), h.Quantile(1))
	}
}

// TestQuantileBound: a quantile is a lower bound exactly when it falls on
// an unanswered vote, counted at its wait so far.
func TestQuantileBound(t *testing.T) {
	t.Parallel()
	answered := func(n int, d time.Duration) Hist {
		var h Hist
		for range n {
			h.Record(d)
		}
		return h
	}
	for _, tc := range []struct {
		name          string
		fast, pending int           // answered at 1 ms; unanswered ...
		wait          time.Duration // ... having waited this long
		q             float64
		atLeast       bool
	}{
		{"no unanswered vote", 100, 0, 0, 0.99, false},
		{"one long wait above p99 of 1000", 999, 1, 5 * time.Second, 0.99, false},
		{"one long wait is the max", 999, 1, 5 * time.Second, 1, true},
		{"short waits below p99 leave it alone", 98, 2, 100 * time.Microsecond, 0.99, false},
		{"p99 falls on an unanswered vote", 98, 2, 3 * time.Second, 0.99, true},
		{"frozen: most votes unanswered", 10, 90, 2 * time.Second, 0.50, true},
		{"a few just sent, p50 holds", 100, 3, 100 * time.Microsecond, 0.50, false},
	} {
		lat := answered(tc.fast, time.Millisecond)
		pending := answered(tc.pending, tc.wait)
		all := lat
		all.Add(&pending)
		v, atLeast := all.quantileBound(&pending, tc.q)
		if atLeast != tc.atLeast || v != all.Quantile(tc.q) {
			t.Errorf("%s: q%v = %v, at least %v; want %v, at least %v", tc.name, tc.q, v, atLeast, all.Quantile(tc.q), tc.atLeast)
		}
	}
	if got := FormatLatency(1500*time.Millisecond, true); got != ">1.50s" {
		t.Errorf("FormatLatency(1.5s, true) = %q", got)
	}
}
