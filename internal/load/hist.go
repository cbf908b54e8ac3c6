package load

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear, like HdrHistogram with two significant
// binary digits more: values below 64 ns have a bucket each; above, every
// power-of-two range [2^(b-1), 2^b) is cut into 32 equal buckets, so a
// bucket is at most 1/32 (3.125 %) of its lower bound wide. Values from
// 2^40 ns (about 18 minutes) up share the last bucket.
const (
	subBits    = 6
	exact      = 1 << subBits // values 0..63 have their own bucket
	half       = exact / 2    // buckets per power of two above that
	maxBits    = 40
	numBuckets = exact + (maxBits-subBits)*half
)

// bucketOf returns the bucket that holds v nanoseconds.
func bucketOf(v uint64) int {
	if v < exact {
		return int(v)
	}
	b := bits.Len64(v)
	if b > maxBits {
		return numBuckets - 1
	}
	shift := b - subBits // >= 1; v>>shift is in [half, exact)
	return exact + (shift-1)*half + int(v>>shift) - half
}

// bucketRange returns the smallest and largest value bucket i holds.
func bucketRange(i int) (lo, hi uint64) {
	if i < exact {
		return uint64(i), uint64(i)
	}
	k := i - exact
	shift := uint(k/half + 1)
	lo = uint64(half+k%half) << shift
	return lo, lo + 1<<shift - 1
}

// Hist is a histogram of durations (ack latencies). The zero value is
// empty and ready to use. It is not safe for concurrent use; the load
// generator keeps one lock-free recorder per client and adds them up.
type Hist struct {
	counts [numBuckets]uint64
	n      uint64
}

// Record adds one duration; negative durations count as zero.
func (h *Hist) Record(d time.Duration) {
	h.counts[bucketOf(uint64(max(d, 0)))]++
	h.n++
}

// Count returns the number of durations recorded.
func (h *Hist) Count() uint64 { return h.n }

// Add adds every duration recorded in o to h.
func (h *Hist) Add(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Sub removes from h the durations recorded in o, an earlier copy of h:
// what is left is what was recorded between the two.
func (h *Hist) Sub(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] -= c
	}
	h.n -= o.n
}

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank method:
// the smallest recorded value v such that at least ceil(q·n) of the n
// values are <= v, reported as the upper bound of v's bucket. It is
// therefore never below the true quantile and at most 3.125 % above it
// (exact below 64 ns). An empty histogram returns 0.
func (h *Hist) Quantile(q float64) time.Duration {
	v, _ := h.quantileBound(nil, q)
	return v
}

// quantileBound returns h's q-quantile (see Quantile) and whether it is
// a censored value: one of those in censored (a part of h, or nil), each
// only a lower bound of the true value (an unanswered vote's wait so far).
// Within a bucket the uncensored values rank first.
func (h *Hist) quantileBound(censored *Hist, q float64) (v time.Duration, atLeast bool) {
	if h.n == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q*float64(h.n) - 1e-9))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(hi), censored != nil && seen-censored.counts[i] < rank
		}
	}
	return 0, false // unreachable: the counts sum to n
}

// Max returns the upper bound of the highest non-empty bucket.
func (h *Hist) Max() time.Duration { return h.Quantile(1) }

// recorder is a Hist that one goroutine records into while another reads
// it, without locks.
type recorder struct {
	counts [numBuckets]atomic.Uint64
}

func (r *recorder) record(d time.Duration) {
	r.counts[bucketOf(uint64(max(d, 0)))].Add(1)
}

// addTo adds the recorder's counts to h.
func (r *recorder) addTo(h *Hist) {
	for i := range r.counts {
		c := r.counts[i].Load()
		h.counts[i] += c
		h.n += c
	}
}

// FormatLatency prints a latency with about three significant digits,
// after ">" when it is a lower bound (atLeast; see Sample.AtLeast).
func FormatLatency(d time.Duration, atLeast bool) string {
	var s string
	switch {
	case d <= 0:
		s = "0"
	case d < time.Millisecond:
		s = fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		s = fmt.Sprintf("%.2fms", float64(d)/1e6)
	case d < time.Second:
		s = fmt.Sprintf("%.0fms", float64(d)/1e6)
	default:
		s = fmt.Sprintf("%.2fs", d.Seconds())
	}
	if atLeast {
		return ">" + s
	}
	return s
}
