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
	pending Hist          // how long each unanswered vote has waited so far
}

// withPending returns lat plus the votes still unanswered at cur. Those
// are censored latencies: each is at least its wait so far, and is
// counted at that wait, so a server that stops answering cannot look
// fast. A quantile that falls on an unanswered vote is only a lower
// bound, and says so.
func withPending(lat *Hist, cur *counts) (all Hist) {
	all = *lat
	all.Add(&cur.pending)
	return all
}

// between summarises what happened from prev to cur: the votes answered
// in between, and the votes unanswered at cur.
func between(prev, cur *counts) Sample {
	span := cur.at - prev.at
	lat := cur.lat
	lat.Sub(&prev.lat)
	all := withPending(&lat, cur)
	s := Sample{
		At:            cur.at,
		Span:          span,
		Votes:         cur.votes - prev.votes,
		VotesPerSec:   Rate(cur.votes-prev.votes, span),
		Tallies:       cur.tallies - prev.tallies,
		TalliesPerSec: Rate(cur.tallies-prev.tallies, span),
		Unanswered:    int(cur.pending.Count()),
		TotalVotes:    cur.votes,
	}
	s.P50, s.P50AtLeast = all.quantileBound(&cur.pending, 0.50)
	s.P99, s.P99AtLeast = all.quantileBound(&cur.pending, 0.99)
	s.Max, s.MaxAtLeast = all.quantileBound(&cur.pending, 1)
	return s
}

// summary is between for a whole run: the same rates, with more quantiles.
func summary(prev, cur *counts) (Latency, Sample) {
	s := between(prev, cur)
	lat := cur.lat
	lat.Sub(&prev.lat)
	all := withPending(&lat, cur)
	l := Latency{Count: lat.Count(), Unanswered: cur.pending.Count()}
	l.P50, l.P50AtLeast = all.quantileBound(&cur.pending, 0.50)
	l.P90, l.P90AtLeast = all.quantileBound(&cur.pending, 0.90)
	l.P99, l.P99AtLeast = all.quantileBound(&cur.pending, 0.99)
	l.P999, l.P999AtLeast = all.quantileBound(&cur.pending, 0.999)
	l.Max, l.MaxAtLeast = all.quantileBound(&cur.pending, 1)
	return l, s
}
