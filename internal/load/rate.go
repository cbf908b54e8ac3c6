package load

import (
	"slices"
	"time"
)

// Rate returns n events over d as events per second, or 0 if d <= 0.
func Rate(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Median returns the median of xs (the mean of the two middle values when
// len(xs) is even), or 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// counts is what the sampler reads from the clients at one instant.
type counts struct {
	at      time.Duration // since the start of the run
	votes   uint64        // acks received by healthy clients
	tallies uint64        // pushed tallies received by every client
	lat     Hist          // ack latencies
}

// between summarises what happened from prev to cur.
func between(prev, cur *counts) Sample {
	span := cur.at - prev.at
	lat := cur.lat
	lat.Sub(&prev.lat)
	return Sample{
		At:            cur.at,
		Span:          span,
		Votes:         cur.votes - prev.votes,
		VotesPerSec:   Rate(cur.votes-prev.votes, span),
		Tallies:       cur.tallies - prev.tallies,
		TalliesPerSec: Rate(cur.tallies-prev.tallies, span),
		P50:           lat.Quantile(0.50),
		P99:           lat.Quantile(0.99),
		Max:           lat.Max(),
		TotalVotes:    cur.votes,
	}
}

// summary is between for a whole run: the same rates, with more quantiles.
func summary(prev, cur *counts) (Latency, Sample) {
	s := between(prev, cur)
	lat := cur.lat
	lat.Sub(&prev.lat)
	return Latency{
		Count: lat.Count(),
		P50:   lat.Quantile(0.50),
		P90:   lat.Quantile(0.90),
		P99:   lat.Quantile(0.99),
		P999:  lat.Quantile(0.999),
		Max:   lat.Max(),
	}, s
}
