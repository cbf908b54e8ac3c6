package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stallproof/stallproof/internal/bench"
	"github.com/stallproof/stallproof/internal/chaos"
	"github.com/stallproof/stallproof/internal/load"
)

func init() {
	register("bench", "load a protocol v1 server (in-process, or on a loopback address) and report votes/s and latency", runBench)
}

func runBench(ctx context.Context, args []string) error {
	fs := newFlagSet("bench", "bench [flags]")
	var (
		addr     = fs.String("addr", "", "loopback `address` of a protocol v1 server to load (default: run -design in this process)")
		design   = fs.String("design", "reference", "in-process `design`: reference, ack-only, or a mutant's name")
		tcp      = fs.Bool("tcp", false, "in-process: use loopback TCP instead of the in-memory network")
		n        = fs.Int("n", bench.DefaultHealthy, "healthy voting clients")
		k        = fs.Int("k", bench.DefaultFaulty, "faulty (stalled) clients: subscribers that never vote")
		faults   = fs.String("faults", "stall", "fault `mix` of the faulty clients: stall, trickle, halfclose, reset")
		faultAt  = fs.Duration("fault-at", 0, "when the faulty clients fail (0: at once, before the warmup ends)")
		duration = fs.Duration("duration", bench.DefaultDuration, "measured time, after the warmup")
		warmup   = fs.Duration("warmup", bench.DefaultWarmup, "load before measuring")
		rate     = fs.Float64("rate", 0, "votes/s per healthy client; 0 for as fast as answered")
		seed     = fs.Uint64("seed", 1, "seed for the votes")
		wt       = fs.Duration("write-timeout", 0, "in-process reference: its write timeout (default the server's, 10s)")
		kbuf     = fs.Int("kernel-buffer", chaos.DefaultKernelBuf, "TCP: kernel send and receive buffers, in `bytes`")
		asJSON   = fs.Bool("json", false, "print the result as JSON instead of text")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	mix, err := load.ParseFaults(*faults)
	if err != nil {
		fmt.Fprintf(stderr, "-faults: %v\n", err)
		return errUsage
	}
	if *addr != "" {
		if err := bench.CheckLoopback(*addr); err != nil {
			fmt.Fprintf(stderr, "-addr: %v\n", err)
			return errUsage
		}
	} else if _, err := chaos.LookupDesigns([]string{*design}); err != nil {
		fmt.Fprintf(stderr, "-design: %v\n", err)
		return errUsage
	}
	if *n < 1 || *k < 0 || *n+*k > load.MaxClients || *duration <= 0 || *warmup < 0 || *warmup+*duration > load.MaxDuration {
		fmt.Fprintf(stderr, "-n, -k, -duration, -warmup: want n >= 1, k >= 0, n+k <= %d, 0 < warmup+duration <= %v\n", load.MaxClients, load.MaxDuration)
		return errUsage
	}
	cfg := bench.Config{
		Addr: *addr, Design: *design, TCP: *tcp,
		Healthy: *n, Faulty: *k, Faults: mix, FaultAt: *faultAt,
		Duration: *duration, Warmup: *warmup, Rate: *rate, Seed: *seed,
		WriteTimeout: *wt, KernelBuffer: *kbuf,
	}
	if !*asJSON {
		cfg.Live = stdout
		fmt.Fprintf(stdout, "stallproof bench: %d healthy + %d faulty (%s at %v) clients, %v warmup + %v, seed %d\n",
			*n, *k, *faults, *faultAt, *warmup, *duration, *seed)
	}
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	res.Write(stdout)
	return nil
}
