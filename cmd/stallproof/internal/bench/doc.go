// Package bench is the logic of "stallproof bench" and the home of the
// benchmarks whose figures are ratios between designs.
//
// [Run] loads one target with package [load]: a protocol v1 server at a
// loopback address ([Config].Addr; any other address is refused, see [CheckLoopback]), or a
// design run in this process (Config.Design: the reference server by
// default, ack-only, or a mutant), on the in-memory network or loopback
// TCP. It reports votes/s, ack latency quantiles, tallies/s, stuck
// clients and evictions and, in process, the heap and goroutines: a [Result].
//
// The heap is the whole process's (the server, the load generator and
// both ends of every in-memory connection), measured after a forced GC at
// the end of the warmup and at the end of the run while every client is
// still connected; its growth divided by the faulty clients is the heap
// growth per stalled client. In memory a stalled client's connection
// holds its buffer (64 KiB) from the start, which the warmup absorbs.
//
// The benchmarks (bench_test.go) measure each ratio within one run, phase
// after phase, so that both sides see the same machine state:
// BenchmarkStalled (votes/s with 10 % of the clients stalled ÷ with
// none, per design), BenchmarkAckOnly (reference ÷ ack-only with 100
// subscribed voters) and BenchmarkHeapPerStalledClient.
//
// Imported by cmd/stallproof only; imports only the standard library,
// packages [designs], [faultnet], [harness] and [load].
package bench
