package load

import "time"

// A Sample is what happened during one interval of a run. Durations are
// offsets from the start of voting; in JSON they are nanoseconds (the
// names end in _ns).
type Sample struct {
	At   time.Duration `json:"at_ns"`   // end of the interval
	Span time.Duration `json:"span_ns"` // its length, as measured

	Votes         uint64  `json:"votes"` // acks received by healthy clients
	VotesPerSec   float64 `json:"votes_per_sec"`
	Tallies       uint64  `json:"tallies"` // pushed tallies received by all clients
	TalliesPerSec float64 `json:"tallies_per_sec"`

	// Ack latency of the votes answered in the interval, from writing
	// VOTE to reading its OK (see Hist.Quantile for the precision), and of
	// the votes still unanswered at its end, counted at their wait so far.
	// A quantile that falls on an unanswered vote is only a lower bound:
	// its AtLeast field says so.
	P50        time.Duration `json:"p50_ns"`
	P50AtLeast bool          `json:"p50_at_least"`
	P99        time.Duration `json:"p99_ns"`
	P99AtLeast bool          `json:"p99_at_least"`
	Max        time.Duration `json:"max_ns"`
	MaxAtLeast bool          `json:"max_at_least"`
	// Unanswered is the healthy clients' votes still unanswered at the end
	// of the interval.
	Unanswered int `json:"unanswered"`

	// At the end of the interval:
	Stuck        int    `json:"stuck"`         // healthy clients waiting > StuckAfter for an answer, or lost
	Lost         int    `json:"lost"`          // healthy clients whose connection ended or failed
	Faulted      int    `json:"faulted"`       // faulty clients whose fault has started
	ServerClosed int    `json:"server_closed"` // stalled or trickling clients the server has closed (evicted)
	TotalVotes   uint64 `json:"total_votes"`
}

// Latency summarises ack latencies: of the votes answered (Count of them),
// and of those still unanswered at the end (Unanswered), counted at their
// wait so far; a quantile whose AtLeast field is set is a lower bound (see
// Sample). Durations are nanoseconds in JSON.
type Latency struct {
	Count       uint64        `json:"count"`
	P50         time.Duration `json:"p50_ns"`
	P50AtLeast  bool          `json:"p50_at_least"`
	P90         time.Duration `json:"p90_ns"`
	P90AtLeast  bool          `json:"p90_at_least"`
	P99         time.Duration `json:"p99_ns"`
	P99AtLeast  bool          `json:"p99_at_least"`
	P999        time.Duration `json:"p999_ns"`
	P999AtLeast bool          `json:"p999_at_least"`
	Max         time.Duration `json:"max_ns"`
	MaxAtLeast  bool          `json:"max_at_least"`
	Unanswered  uint64        `json:"unanswered"`
}

// A FaultEvent is a fault that started.
type FaultEvent struct {
	Client int           `json:"client"`
	Fault  Fault         `json:"fault"`
	At     time.Duration `json:"at_ns"`
}

// Result is what a run measured. Totals leave out Config.Warmup.
type Result struct {
	Elapsed       time.Duration `json:"elapsed_ns"` // the span the totals cover
	Votes         uint64        `json:"votes"`
	VotesPerSec   float64       `json:"votes_per_sec"`
	Tallies       uint64        `json:"tallies"`
	TalliesPerSec float64       `json:"tallies_per_sec"`
	Latency       Latency       `json:"latency"`

	Samples []Sample `json:"samples"`

	MaxStuck     int `json:"max_stuck"` // the most healthy clients stuck at once
	Stuck        int `json:"stuck"`     // at the end
	Lost         int `json:"lost"`      // at the end
	Faulted      int `json:"faulted"`
	ServerClosed int `json:"server_closed"`

	Faults     []FaultEvent  `json:"faults"`
	FirstFault time.Duration `json:"first_fault_ns"` // -1: no fault started

	// Errors counts clients that failed other than as planned (a healthy
	// client's connection ended, an ERR reply, a faulty client's
	// connection ended before its fault); FirstError describes one.
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
}
