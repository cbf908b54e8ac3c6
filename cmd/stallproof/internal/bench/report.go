package bench

import (
	"fmt"
	"io"

	"github.com/stallproof/stallproof/internal/load"
)

// Write prints the result as a short report.
func (r *Result) Write(w io.Writer) {
	l := r.Load
	var rates []float64
	for _, s := range l.Samples {
		if s.At > l.Samples[0].At && s.Span > 0 { // not the first (warmup) interval
			rates = append(rates, s.VotesPerSec)
		}
	}
	fmt.Fprintf(w, "\ntarget        %s\n", r.Target)
	fmt.Fprintf(w, "measured      %.1fs after the warmup\n", l.Elapsed.Seconds())
	fmt.Fprintf(w, "votes/s       %.0f (%d votes; median of the intervals %.0f)\n", l.VotesPerSec, l.Votes, load.Median(rates))
	lat, f := l.Latency, load.FormatLatency
	fmt.Fprintf(w, "ack latency   p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%d acks",
		f(lat.P50, lat.P50AtLeast), f(lat.P90, lat.P90AtLeast), f(lat.P99, lat.P99AtLeast),
		f(lat.P999, lat.P999AtLeast), f(lat.Max, lat.MaxAtLeast), lat.Count)
	if lat.Unanswered > 0 {
		fmt.Fprintf(w, ", %d votes unanswered at the end, counted at their wait so far: \">\" is a lower bound", lat.Unanswered)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "tallies/s     %.0f received, all clients\n", l.TalliesPerSec)
	fmt.Fprintf(w, "stuck         %d healthy clients at most, %d at the end, %d lost\n", l.MaxStuck, l.Stuck, l.Lost)
	ev := r.evictionsText()
	fmt.Fprintf(w, "evictions     %s; %d of %d stalled/trickling clients seen closed\n", ev, l.ServerClosed, r.Faulty)
	if r.InProcess {
		fmt.Fprintf(w, "heap          %.2f MiB after the warmup, %.2f MiB at the end (after GC, whole process)", mib(r.HeapStart), mib(r.HeapEnd))
		if r.Faulty > 0 {
			fmt.Fprintf(w, ": %+.0f B per faulty client", r.HeapGrowthPerFaulty())
		}
		fmt.Fprintln(w)
		if r.NetBufferedStart != 0 || r.NetBufferedEnd != 0 {
			fmt.Fprintf(w, "              of which in-memory network buffers: %.2f → %.2f MiB", mib(uint64(r.NetBufferedStart)), mib(uint64(r.NetBufferedEnd)))
			if r.Faulty > 0 {
				fmt.Fprintf(w, ", %+.0f B per faulty client; the rest %+.0f B per faulty client",
					r.NetGrowthPerFaulty(), r.HeapGrowthPerFaulty()-r.NetGrowthPerFaulty())
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "goroutines    %d after the warmup, %d at the end (whole process)\n", r.GoroutinesStart, r.GoroutinesEnd)
	}
	if l.Errors > 0 {
		fmt.Fprintf(w, "errors        %d clients failed unexpectedly: %s\n", l.Errors, l.FirstError)
	}
}

// evictionsText says what is known of the server's own count of evictions.
func (r *Result) evictionsText() string {
	switch {
	case r.EvictionsKnown:
		return fmt.Sprintf("%d by the server", r.Evictions)
	case !r.InProcess:
		return "the server's own count is not visible over TCP (see its metrics)"
	}
	return "the design keeps no count"
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
