package load

import "time"

// A Sample is what happened during one interval of a run. Durations are
// offsets from the start of voting; in JSON they are nanoseconds.
type Sample struct {
	At   time.Duration `json:"at"`   // end of the interval
	Span time.Duration `json:"span"` // its length, as measured

	Votes         uint64  `json:"votes"` // acks received by healthy clients
	VotesPerSec   float64 `json:"votes_per_sec"`
	Tallies       uint64  `json:"tallies"` // pushed tallies received by all clients
	TalliesPerSec float64 `json:"tallies_per_sec"`

	// Ack latency of the votes answered in the interval: from writing
	// VOTE to reading its OK (see Hist.Quantile for the precision).
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`

	// At the end of the interval:
	Stuck        int    `json:"stuck"`         // healthy clients waiting > StuckAfter for an answer, or lost
	Lost         int    `json:"lost"`          // healthy clients whose connection ended or failed
	Faulted      int    `json:"faulted"`       // faulty clients whose fault has started
	ServerClosed int    `json:"server_closed"` // stalled or trickling clients the server has closed (evicted)
	TotalVotes   uint64 `json:"total_votes"`
}

// Latency summarises ack latencies.
type Latency struct {
	Count                    uint64
	P50, P90, P99, P999, Max time.Duration
}

// A FaultEvent is a fault that started.
type FaultEvent struct {
	Client int           `json:"client"`
	Fault  Fault         `json:"fault"`
	At     time.Duration `json:"at"`
}

// Result is what a run measured. Totals leave out Config.Warmup.
type Result struct {
	Elapsed       time.Duration `json:"elapsed"` // the span the totals cover
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
	FirstFault time.Duration `json:"first_fault"` // -1: no fault started

	// Errors counts clients that failed other than as planned (a healthy
	// client's connection ended, an ERR reply, a faulty client's
	// connection ended before its fault); FirstError describes one.
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
}
