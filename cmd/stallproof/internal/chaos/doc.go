// Package chaos is the logic of "stallproof chaos": it runs the reference
// server and broken designs side by side, in one process, under the same
// load, while some clients stall, trickle, half-close or reset, and says
// which designs stay live.
//
// [Run] starts every design in [Config].Designs ([DefaultDesigns]: reference,
// lock-across-write, broadcast-worker; package [designs] lists the others) on its
// own listener: the in-memory faultnet network by default, or loopback TCP
// with small socket buffers (Config.TCP). Each gets its own [load.Run] with
// the same configuration and seed: Config.Healthy clients voting at
// Config.Rate votes/s each, and Config.Faulty subscribers that fail on the
// schedule Config.FaultAt, then one every Config.FaultEvery. Every second
// it prints a table (votes/s, ack p50/p99, healthy clients stuck,
// evictions, goroutines) to Config.Live. When the load ends, it cancels
// each design's context and waits at most Config.StopWait for its Serve to
// return; a design that does not stop is reported, not waited for.
//
// # Attribution in one process
//
// Goroutines are counted per design exactly, with the profiler label
// that package [harness] puts on each design's goroutines. Heap cannot be split that way: the Go heap profile
// carries no labels. The report gives the process's heap over time, once,
// and "stallproof bench -design NAME" measures one design's heap and
// goroutines alone in a process. Evictions are the server's own count when
// it keeps one (the reference); for the mutants, which evict nobody, they
// are the stalled or trickling clients the load saw closed.
//
// The designs share the machine's CPUs. At the default pace (20 votes/s
// per client) none of them is CPU-bound, so every design's votes/s is
// the offered load until it freezes; at full speed (Rate < 0) a frozen
// design's share of the CPUs goes to the others.
//
// # Verdicts
//
// Each [DesignReport] has a verdict, [Live], [Degraded] or [Frozen], judged
// from the samples (see DesignReport.Verdict). [WriteSummary] prints them;
// [WriteFiles] writes the [Report] as JSON and the chart as SVG ([WriteSVG]: votes/s over time per
// design, the first fault marked).
//
// Imported by cmd/stallproof only; imports only the standard library,
// packages [designs], [faultnet], [harness] and [load].
package chaos
