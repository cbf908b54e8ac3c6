package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stallproof/stallproof/cmd/stallproof/internal/bench"
	"github.com/stallproof/stallproof/cmd/stallproof/internal/designs"
	"github.com/stallproof/stallproof/internal/harness"
)

func init() {
	register("bench", "load a protocol v1 server (in-process, or on a loopback address) and report votes/s and latency", runBench)
}

func runBench(ctx context.Context, args []string) error {
	fs := newFlagSet("bench", "bench [flags]")
	lf := addLoadFlags(fs, loadDefaults{
		n: bench.DefaultHealthy, k: bench.DefaultFaulty, faults: "stall",
		duration: bench.DefaultDuration, sockBuf: harness.DefaultSocketBufferSize,
		tcpUsage: "in-process: use loopback TCP with small socket buffers instead of the in-memory network",
	})
	var (
		addr   = fs.String("addr", "", "loopback `address` of a protocol v1 server to load (default: run -design in this process)")
		design = fs.String("design", "reference", "in-process `design`: reference, ack-only, or a mutant's name")
		warmup = fs.Duration("warmup", bench.DefaultWarmup, "load before measuring")
		asJSON = fs.Bool("json", false, "print the result as JSON instead of text")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *warmup < 0 {
		return flagError(fs, "-warmup", "want 0 or more, got %v", *warmup)
	}
	mix, err := lf.check(*warmup)
	if err != nil {
		return err
	}
	if *addr != "" {
		if err := bench.CheckLoopback(*addr); err != nil {
			return flagError(fs, "-addr", "%v", err)
		}
	} else if _, err := designs.Lookup([]string{*design}); err != nil {
		return flagError(fs, "-design", "%v", err)
	}
	n, k, faultAt, duration, seed := *lf.n, *lf.k, *lf.faultAt, *lf.duration, *lf.seed
	cfg := bench.Config{
		Addr: *addr, Design: *design, TCP: *lf.tcp,
		Healthy: n, Faulty: k, Faults: mix, FaultAt: faultAt,
		Duration: duration, Warmup: *warmup, Rate: *lf.rate, Seed: seed,
		WriteTimeout: *lf.wt, SocketBufferSize: *lf.sockBuf,
	}
	if !*asJSON {
		cfg.Live = stdout
		fmt.Fprintf(stdout, "stallproof bench: %d healthy + %d faulty (%s at %v) clients, %v warmup + %v, seed %d\n",
			n, k, *lf.faults, faultAt, *warmup, duration, seed)
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
