package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Each benchmark iteration runs its phases for a fixed time (warmup, then
// measurement), so with the default -benchtime each runs once; repeat with
// -count and take medians. ns/op is the length of an iteration and means
// nothing; the custom metrics are the figures.
const (
	phaseWarmup   = 500 * time.Millisecond
	phaseDuration = 2 * time.Second
	never         = time.Hour // a FaultAt after the end: the faulty clients just read
)

func phase(b *testing.B, cfg Config) *Result {
	b.Helper()
	cfg.Warmup, cfg.Duration = phaseWarmup, phaseDuration
	res, err := Run(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

var transports = []struct {
	name string
	tcp  bool
}{{"mem", false}, {"tcp", true}}

// BenchmarkStalled: votes/s of 90 clients voting as fast as answered, with
// 10 more clients that subscribe and read everything ("none"), and with
// the same 10 stalled from the start ("stalled"), in one iteration: none,
// stalled, none again, so that a drift of the machine during the
// iteration cancels out ("none" is the mean of the two). The goal for a
// design that isolates clients is ratio >= 0.95; a design that freezes
// gets about 0 (its phase still ends on time).
func BenchmarkStalled(b *testing.B) {
	for _, tr := range transports {
		for _, design := range []string{"reference", "lock-across-write", "broadcast-worker"} {
			b.Run(fmt.Sprintf("%s/%s", tr.name, design), func(b *testing.B) {
				var none, stalled float64
				for range b.N {
					cfg := Config{Design: design, TCP: tr.tcp, Healthy: 90, Faulty: 10}
					cfg.FaultAt = never
					a1 := phase(b, cfg)
					cfg.FaultAt = 0
					z := phase(b, cfg)
					cfg.FaultAt = never
					a2 := phase(b, cfg)
					none += (a1.Load.VotesPerSec + a2.Load.VotesPerSec) / 2
					stalled += z.Load.VotesPerSec
				}
				none, stalled = none/float64(b.N), stalled/float64(b.N)
				b.ReportMetric(none, "votes/s-none")
				b.ReportMetric(stalled, "votes/s-stalled")
				b.ReportMetric(stalled/none, "ratio")
			})
		}
	}
}

// BenchmarkAckOnly: votes/s of the reference server ÷ the ack-only server
// (the same reads and writes of VOTE and OK, no tally, no broadcast) with
// 100 clients voting as fast as answered, each subscribed to the pushed
// tallies. Goal: ratio >= 0.7. tallies/s is what the reference's clients
// received meanwhile. Order: ack-only, reference, ack-only (the mean of
// the two), as in BenchmarkStalled.
func BenchmarkAckOnly(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			var ack, ref, tallies float64
			for range b.N {
				a1 := phase(b, Config{Design: "ack-only", TCP: tr.tcp, Healthy: 100})
				r := phase(b, Config{Design: "reference", TCP: tr.tcp, Healthy: 100})
				a2 := phase(b, Config{Design: "ack-only", TCP: tr.tcp, Healthy: 100})
				ack += (a1.Load.VotesPerSec + a2.Load.VotesPerSec) / 2
				ref += r.Load.VotesPerSec
				tallies += r.Load.TalliesPerSec
			}
			n := float64(b.N)
			b.ReportMetric(ack/n, "votes/s-ack-only")
			b.ReportMetric(ref/n, "votes/s-reference")
			b.ReportMetric(tallies/n, "tallies/s-reference")
			b.ReportMetric(ref/ack, "ratio")
		})
	}
}

// BenchmarkHeapPerStalledClient: the reference server over loopback TCP
// with 90 voting clients and 10 stalled from the start (its write timeout
// longer than the run, so they stay): the growth of the process's heap
// from the end of a 1 s warmup to the end of a 4 s run, per stalled
// client. Goal: flat. Over TCP the kernel holds the bytes queued for a
// stalled client, so the Go heap is the server's and the load generator's
// own (in memory, the network's buffers are on the heap too and grow and
// shrink with every connection's backlog, which swamps the figure). The
// 60 s figure comes from "stallproof bench -tcp -duration 60s".
func BenchmarkHeapPerStalledClient(b *testing.B) {
	var growth, heap float64
	for range b.N {
		res, err := Run(context.Background(), Config{
			Design: "reference", TCP: true, Healthy: 90, Faulty: 10,
			Warmup: time.Second, Duration: 4 * time.Second, WriteTimeout: time.Minute,
		})
		if err != nil {
			b.Fatal(err)
		}
		growth += res.HeapGrowthPerFaulty()
		heap += float64(res.HeapEnd)
	}
	n := float64(b.N)
	b.ReportMetric(growth/n, "B/stalled-client")
	b.ReportMetric(heap/n/(1<<20), "heap-MiB")
}
