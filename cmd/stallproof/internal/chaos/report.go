package chaos

import (
	"fmt"
	"runtime"
	"time"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/internal/load"
)

// Report is the outcome of Run. In JSON every name of a quantity with a
// unit ends in it: _s for seconds, _ms for milliseconds, _ns for the
// nanoseconds inside Result (a load.Result), _bytes for bytes.
type Report struct {
	Healthy int    `json:"healthy"`
	Faulty  int    `json:"faulty"`
	Faults  string `json:"faults"`
	// FaultAt and FaultEvery are the schedule: faulty client i fails at
	// FaultAt + i·FaultEvery seconds.
	FaultAt    float64 `json:"fault_at_s"`
	FaultEvery float64 `json:"fault_every_s"`
	Duration   float64 `json:"duration_s"`
	Rate       float64 `json:"rate_votes_per_s"` // per healthy client; 0: as fast as answered
	StuckAfter float64 `json:"stuck_after_s"`
	Seed       uint64  `json:"seed"`
	Network    string  `json:"network"`

	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	Started   string `json:"started"`

	// HeapBytes is the process's live heap, sampled every interval: one
	// process runs every design, so the heap is not split by design (run
	// "stallproof bench -design NAME" for one design's heap).
	HeapBytes []uint64 `json:"heap_bytes"`

	// Interrupted is set when the run was stopped early (its context was
	// done): the verdicts cover only what ran.
	Interrupted bool `json:"interrupted,omitempty"`

	Designs []DesignReport `json:"designs"`
}

// DesignReport is one design's outcome.
type DesignReport struct {
	Name  string `json:"name"`
	About string `json:"about"`

	// Verdict is LIVE, DEGRADED or FROZEN; Detail says why, in a line.
	Verdict string `json:"verdict"`
	Detail  string `json:"detail"`
	// FrozenAt is when the design stopped answering for good, in seconds
	// from the start of voting (the end of its last interval with votes),
	// or -1.
	FrozenAt float64 `json:"frozen_at_s"`

	Rows []Row `json:"rows"` // one per interval

	// Evictions is the server's own count of slow consumers closed when
	// it keeps one (EvictionsFrom "server"), otherwise the stalled or
	// trickling clients the load saw closed ("clients").
	Evictions     uint64 `json:"evictions"`
	EvictionsFrom string `json:"evictions_from"`

	// Stopping at the end: whether Serve returned within the wait, how
	// long it took, and the goroutines still labelled with the design
	// after it.
	Stopped             bool    `json:"stopped"`
	StopTime            float64 `json:"stop_time_s"`
	StopError           string  `json:"stop_error,omitempty"`
	GoroutinesAfterStop int     `json:"goroutines_after_stop"`

	Result load.Result `json:"result"`
}

// Row is one interval of one design.
type Row struct {
	At          float64 `json:"at_s"` // end of the interval
	VotesPerSec float64 `json:"votes_per_sec"`
	// Ack latency quantiles, counting the votes unanswered at the end of
	// the interval at their wait so far; with P99AtLeast the p99 is only
	// a lower bound (see load.Sample.AtLeast).
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	P99AtLeast bool    `json:"p99_at_least"`
	Unanswered int     `json:"unanswered"`
	Stuck      int     `json:"stuck"`
	Evictions  uint64  `json:"evictions"`
	Goroutines int     `json:"goroutines"` // the design's own, by profiler label (harness.ServerLabel)
}

func newReport(cfg Config) *Report {
	network := harness.Network{TCP: cfg.TCP, SocketBufferSize: cfg.SocketBufferSize}.Describe()
	return &Report{
		Healthy:    cfg.Healthy,
		Faulty:     cfg.Faulty,
		Faults:     load.FormatFaults(cfg.Faults),
		FaultAt:    cfg.FaultAt.Seconds(),
		FaultEvery: cfg.FaultEvery.Seconds(),
		Duration:   cfg.Duration.Seconds(),
		Rate:       cfg.Rate,
		StuckAfter: cfg.StuckAfter.Seconds(),
		Seed:       cfg.Seed,
		Network:    network,
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		CPUs:       runtime.NumCPU(),
		Started:    time.Now().UTC().Format(time.RFC3339),
		Designs:    make([]DesignReport, len(cfg.Designs)),
	}
}

// Verdicts.
const (
	Live     = "LIVE"
	Degraded = "DEGRADED"
	Frozen   = "FROZEN"
)

// Thresholds of the verdict, as fractions of the median votes/s before the
// first fault.
const (
	frozenBelow   = 0.10 // an interval under this has (almost) no votes
	degradedBelow = 0.50 // a median after the fault under this is degraded
)

// judge gives the verdict from the samples:
//
//   - FROZEN: after the first fault, every interval from some point to the
//     end has under 10 % of the votes/s before it (the median of the
//     intervals that ended before the fault), for two intervals or more,
//     and healthy clients are stuck at the end.
//   - DEGRADED: not frozen, but the median votes/s after the first fault is
//     under half the median before, or a healthy client was stuck or lost
//     at some point.
//
// The thresholds are loose on purpose: the designs share a machine that
// may be busy with other work, and what the verdict must tell apart is a
// design that stops from one that keeps answering.
//   - LIVE: otherwise.
//
// With no fault, or no interval that ended before it, the rate to compare
// with is the best interval's.
func (d *DesignReport) judge(cfg Config) {
	res := d.Result
	samples := res.Samples
	d.FrozenAt = -1
	fault := res.FirstFault
	var before, after []float64
	for _, s := range samples {
		if fault >= 0 && s.At <= fault {
			before = append(before, s.VotesPerSec)
		} else if fault >= 0 && s.At-s.Span >= fault {
			after = append(after, s.VotesPerSec)
		}
	}
	ref := load.Median(before)
	if len(before) == 0 {
		// No interval ended before the fault (or there was none): compare
		// with the best interval instead.
		for _, s := range samples {
			ref = max(ref, s.VotesPerSec)
		}
	}
	faultDesc := "no fault"
	if fault >= 0 && len(res.Faults) > 0 {
		faultDesc = fmt.Sprintf("the first %s at %.1fs", res.Faults[0].Fault, fault.Seconds())
	}

	// The frozen tail: the intervals at the end under frozenBelow·ref.
	tail := len(samples)
	for tail > 0 && samples[tail-1].VotesPerSec < frozenBelow*ref && (fault < 0 || samples[tail-1].At > fault) {
		tail--
	}
	if n := len(samples) - tail; n >= 2 && res.Stuck > 0 && ref > 0 {
		at := time.Duration(0)
		if tail > 0 {
			at = samples[tail-1].At
		}
		if fault >= 0 && at < fault {
			at = fault
		}
		d.Verdict = Frozen
		d.FrozenAt = at.Seconds()
		d.Detail = fmt.Sprintf("FROZEN at %.1fs (%s): %d/%d healthy clients stuck, %.0f votes/s before, %.0f at the end",
			at.Seconds(), faultDesc, res.Stuck, cfg.Healthy, ref, samples[len(samples)-1].VotesPerSec)
		return
	}
	post := load.Median(after)
	switch {
	case len(after) > 0 && post < degradedBelow*ref, res.MaxStuck > 0, res.Lost > 0:
		d.Verdict = Degraded
		d.Detail = fmt.Sprintf("DEGRADED after %s: %.0f votes/s before, %.0f after (medians); up to %d healthy clients stuck, %d lost",
			faultDesc, ref, post, res.MaxStuck, res.Lost)
	default:
		d.Verdict = Live
		if len(after) == 0 {
			post = ref
		}
		d.Detail = fmt.Sprintf("LIVE through %s: %.0f votes/s before, %.0f after (medians); no healthy client stuck; %d evicted",
			faultDesc, ref, post, d.Evictions)
	}
}
