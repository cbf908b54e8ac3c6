package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/stallproof/stallproof/internal/chaos"
	"github.com/stallproof/stallproof/internal/load"
)

func init() {
	register("chaos", "run the reference server and broken designs side by side while clients stall", runChaos)
}

func runChaos(ctx context.Context, args []string) error {
	fs := newFlagSet("chaos", "chaos [flags]")
	var (
		designs    = fs.String("designs", strings.Join(chaos.DefaultDesigns, ","), "comma-separated `designs` to run side by side (reference, ack-only, or a mutant's name)")
		n          = fs.Int("n", chaos.DefaultHealthy, "healthy voting clients per design")
		k          = fs.Int("k", chaos.DefaultFaulty, "faulty clients per design")
		faults     = fs.String("faults", chaos.DefaultFaults, "fault `mix`, cycled over the faulty clients: stall, trickle, halfclose, reset")
		faultAt    = fs.Duration("fault-at", chaos.DefaultFaultAt, "when the first faulty client fails")
		faultEvery = fs.Duration("fault-every", chaos.DefaultFaultEvery, "then one more faulty client fails every this long")
		duration   = fs.Duration("duration", chaos.DefaultDuration, "how long the clients vote")
		rate       = fs.Float64("rate", chaos.DefaultRate, "votes/s per healthy client; -1 for as fast as answered")
		seed       = fs.Uint64("seed", 1, "seed for the votes and the clients' timing")
		tcp        = fs.Bool("tcp", false, "use real loopback TCP with small kernel buffers instead of the in-memory network")
		kbuf       = fs.Int("kernel-buffer", chaos.DefaultKernelBuf, "with -tcp: the kernel's send and receive buffers, in `bytes`")
		buffer     = fs.Int("buffer", 0, "in memory: each connection's buffer per direction, in `bytes` (default faultnet's, 64 KiB)")
		stuck      = fs.Duration("stuck-after", 0, "a healthy client waiting this long for an answer is stuck (default 2s)")
		wt         = fs.Duration("write-timeout", 0, "the reference server's write timeout (default the server's, 10s)")
		out        = fs.String("out", "", "write chaos.json and chaos.svg into this `directory`")
		plain      = fs.Bool("plain", false, "append the table every second instead of redrawing it (the default when stdout is not a terminal)")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	mix, err := load.ParseFaults(*faults)
	if err != nil {
		fmt.Fprintf(stderr, "-faults: %v\n", err)
		return errUsage
	}
	if *n < 1 || *k < 0 || *n+*k > load.MaxClients || *duration <= 0 || *duration > load.MaxDuration {
		fmt.Fprintf(stderr, "-n, -k, -duration: want n >= 1, k >= 0, n+k <= %d, 0 < duration <= %v\n", load.MaxClients, load.MaxDuration)
		return errUsage
	}
	cfg := chaos.Config{
		Designs:      strings.Split(*designs, ","),
		Healthy:      *n,
		Faulty:       *k,
		Faults:       mix,
		FaultAt:      *faultAt,
		FaultEvery:   *faultEvery,
		Duration:     *duration,
		Rate:         *rate,
		Seed:         *seed,
		TCP:          *tcp,
		KernelBuffer: *kbuf,
		BufferSize:   *buffer,
		StuckAfter:   *stuck,
		WriteTimeout: *wt,
		Live:         stdout,
		Redraw:       !*plain && isTerminal(stdout),
	}
	if _, err := chaos.LookupDesigns(cfg.Designs); err != nil {
		fmt.Fprintf(stderr, "-designs: %v\n", err)
		return errUsage
	}
	fmt.Fprintf(stdout, "stallproof chaos: %s side by side, %d healthy + %d faulty clients each; Ctrl-C stops early\n\n",
		strings.Join(cfg.Designs, ", "), *n, *k)
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		return err
	}
	chaos.WriteSummary(stdout, rep)
	if *out != "" {
		paths, err := chaos.WriteFiles(*out, rep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %s\n", strings.Join(paths, ", "))
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
