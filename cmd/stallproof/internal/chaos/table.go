package chaos

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stallproof/stallproof/internal/load"
)

// table prints the live table: a progress line, then a row per design.
type table struct {
	cfg    Config
	w      io.Writer
	redraw bool
	lines  int // printed last time, to redraw over
}

// render draws frame k (from 0): every design's sample k, labelled with
// the end of that interval.
func (t *table) render(runs []*designRun, k int, heap uint64) {
	if t.w == nil {
		return
	}
	var b strings.Builder
	at := min(time.Duration(k+1)*t.cfg.Interval, t.cfg.Duration)
	faulted := 0
	for _, r := range runs {
		r.mu.Lock()
		faulted = max(faulted, r.samples[k].Faulted)
		r.mu.Unlock()
	}
	total := t.cfg.Duration
	const width = 30
	done := min(int(float64(width)*at.Seconds()/total.Seconds()), width)
	fmt.Fprintf(&b, "%5.1fs / %.1fs [%s%s]  faults started %d/%d  heap %.1f MiB (whole process)\n",
		at.Seconds(), total.Seconds(), strings.Repeat("#", done), strings.Repeat(".", width-done),
		faulted, t.cfg.Faulty, float64(heap)/(1<<20))
	fmt.Fprintf(&b, "%-20s %9s %9s %9s %9s %8s %11s\n", "design", "votes/s", "ack p50", "ack p99", "stuck", "evicted", "goroutines")
	for _, r := range runs {
		r.mu.Lock()
		s, row := r.samples[k], r.rep.Rows[k]
		src := r.rep.EvictionsFrom
		r.mu.Unlock()
		evs := fmt.Sprint(row.Evictions)
		if src == "clients" {
			evs += "*"
		}
		p50, p99 := "-", "-"
		if s.Votes > 0 || s.Unanswered > 0 {
			p50, p99 = load.FormatLatency(s.P50, s.P50AtLeast), load.FormatLatency(s.P99, s.P99AtLeast)
		}
		fmt.Fprintf(&b, "%-20s %9.0f %9s %9s %9s %8s %11d\n", r.d.Name, s.VotesPerSec, p50, p99,
			fmt.Sprintf("%d/%d", s.Stuck, t.cfg.Healthy), evs, row.Goroutines)
	}
	out := b.String()
	if t.redraw && t.lines > 0 {
		fmt.Fprintf(t.w, "\x1b[%dA", t.lines)
		out = strings.ReplaceAll(out, "\n", "\x1b[K\n")
	} else if t.lines > 0 {
		out = "\n" + out
	}
	io.WriteString(t.w, out)
	t.lines = strings.Count(b.String(), "\n")
}

// WriteSummary prints the run's configuration, a line per design with its
// totals and verdict, and notes on the columns.
func WriteSummary(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\nSummary: %d healthy clients voting at %s, %d faulty (%s) from %.1fs every %.1fs, %.0fs, %s, seed %d\n",
		rep.Healthy, rateDesc(rep.Rate), rep.Faulty, rep.Faults, rep.FaultAt, rep.FaultEvery, rep.Duration, rep.Network, rep.Seed)
	fmt.Fprintf(w, "%-20s %9s %9s %9s %10s %10s  %s\n", "design", "votes", "votes/s", "ack p99", "unanswered", "verdict", "")
	for _, d := range rep.Designs {
		lat := d.Result.Latency
		fmt.Fprintf(w, "%-20s %9d %9.0f %9s %10d %10s  %s\n", d.Name, d.Result.Votes, d.Result.VotesPerSec,
			load.FormatLatency(lat.P99, lat.P99AtLeast), lat.Unanswered, d.Verdict, d.Detail)
	}
	if rep.Interrupted {
		fmt.Fprintln(w, "warning: the run was interrupted; the verdicts cover only what ran (a design may freeze a few seconds after a stall)")
	}
	for _, d := range rep.Designs {
		if !d.Stopped {
			fmt.Fprintf(w, "warning: %s %s; %d of its goroutines remain\n", d.Name, d.StopError, d.GoroutinesAfterStop)
		} else if d.GoroutinesAfterStop > 0 {
			fmt.Fprintf(w, "warning: %s stopped, but %d of its goroutines remain\n", d.Name, d.GoroutinesAfterStop)
		}
		if d.Result.Errors > 0 {
			fmt.Fprintf(w, "note: %s: %d clients failed unexpectedly (%s)\n", d.Name, d.Result.Errors, d.Result.FirstError)
		}
	}
	fmt.Fprintf(w, "\nstuck: healthy clients waiting over %gs for an answer (or disconnected). evicted: the server's count of\n", rep.StuckAfter)
	fmt.Fprintln(w, "slow consumers it closed; * = stalled/trickling clients the load saw closed (the design keeps no count).")
	fmt.Fprintln(w, "ack p50/p99: latency from VOTE to OK, counting the votes still unanswered (at the end, for the summary)")
	fmt.Fprintln(w, "at their wait so far; \">\" marks a lower bound. goroutines: the design's own, counted by profiler label.")
	fmt.Fprintln(w, "Heap is one figure for the whole process.")
}

func rateDesc(rate float64) string {
	if rate <= 0 {
		return "full speed"
	}
	return fmt.Sprintf("%g votes/s each", rate)
}
