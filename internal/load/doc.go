// Package load is a load generator for protocol v1 servers: N healthy
// clients vote while K faulty ones stall, trickle, half-close or reset on
// a schedule, and it measures what the healthy ones see.
//
// [Run] dials every client through [Config].Dial (an in-memory
// [faultnet.Listener]'s Dial, or a dialer for a loopback TCP address),
// waits for each HELLO, then lets the healthy clients vote for
// Config.Duration: each sends VOTE, waits for its OK, and votes again, as
// fast as answers come back or at Config.Rate votes per second. Every
// client reads every line the server pushes. The faulty clients never
// vote; each starts its [Fault] at its time (Config.FaultAt, then one every
// Config.FaultEvery). A run is bounded in time (Config.Duration, at most
// [MaxDuration]), in votes (Config.MaxVotes per client) and in clients
// ([MaxClients]), and ends by itself whatever the server does: at the end it
// closes every connection, which unblocks every client goroutine.
//
// # What it measures
//
// Every Config.Interval it takes a [Sample]: votes answered and votes/s,
// pushed tallies received and tallies/s, ack latency p50, p99 and max, and
// how many healthy clients are stuck (waiting longer than
// Config.StuckAfter for an answer, or disconnected). The [Result] adds the
// totals over the run (less Config.Warmup) and latency p50 to p99.9.
//
// Rates are counts divided by the measured span ([Rate]), not by the
// nominal interval. Latency is measured from just before the VOTE is
// written to just after its OK is read, on the monotonic clock; a vote
// that waits behind a slow answer is not charged for the wait (the
// closed loop hides it), which is why stuck clients are counted apart.
// Latencies go into a log-linear histogram ([Hist]): exact below 64 ns,
// buckets at most 3.125 % wide above; a quantile is the nearest-rank
// value, reported as the upper bound of its bucket, so it is never below
// the true value and at most 3.125 % above it.
//
// Imported by cmd/stallproof and its internal packages chaos and bench;
// imports only the standard library, [faultnet] (to inject the faults) and
// package [wire].
package load
