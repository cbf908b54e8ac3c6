package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/stallproof/stallproof/cmd/stallproof/internal/chaos"
	"github.com/stallproof/stallproof/cmd/stallproof/internal/designs"
)

func init() {
	register("chaos", "run the reference server and broken designs side by side while clients stall", runChaos)
}

func runChaos(ctx context.Context, args []string) error {
	fs := newFlagSet("chaos", "chaos [flags]")
	lf := addLoadFlags(fs, loadDefaults{
		n: chaos.DefaultHealthy, k: chaos.DefaultFaulty, faults: chaos.DefaultFaults,
		faultAt: chaos.DefaultFaultAt, duration: chaos.DefaultDuration, rate: chaos.DefaultRate,
		sockBuf:  chaos.DefaultSocketBufferSize,
		tcpUsage: "use real loopback TCP with small socket buffers instead of the in-memory network",
	})
	var (
		designList = fs.String("designs", strings.Join(chaos.DefaultDesigns, ","), "comma-separated `designs` to run side by side (reference, ack-only, or a mutant's name)")
		faultEvery = fs.Duration("fault-every", chaos.DefaultFaultEvery, "then one more faulty client fails every this long")
		buffer     = fs.Int("buffer", 0, "in memory: each connection's buffer per direction, in `bytes` (default faultnet's, 64 KiB)")
		stuck      = fs.Duration("stuck-after", 0, "a healthy client waiting this long for an answer is stuck (default 2s)")
		out        = fs.String("out", "", "write chaos.json and chaos.svg into this `directory`")
		plain      = fs.Bool("plain", false, "append the table every second instead of redrawing it (the default when stdout is not a terminal)")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	mix, err := lf.check(0)
	if err != nil {
		return err
	}
	switch {
	case *faultEvery < 0:
		return flagError(fs, "-fault-every", "want 0 or more, got %v", *faultEvery)
	case *buffer < 0:
		return flagError(fs, "-buffer", "want 0 (the default) or more bytes, got %d", *buffer)
	case *stuck < 0:
		return flagError(fs, "-stuck-after", "want 0 (the default) or more, got %v", *stuck)
	}
	rate := *lf.rate
	if rate == 0 {
		rate = -1 // chaos.Config: a zero Rate is the default pace; < 0 is as fast as answered
	}
	cfg := chaos.Config{
		Designs:          strings.Split(*designList, ","),
		Healthy:          *lf.n,
		Faulty:           *lf.k,
		Faults:           mix,
		FaultAt:          *lf.faultAt,
		FaultEvery:       *faultEvery,
		Duration:         *lf.duration,
		Rate:             rate,
		Seed:             *lf.seed,
		TCP:              *lf.tcp,
		SocketBufferSize: *lf.sockBuf,
		BufferSize:       *buffer,
		StuckAfter:       *stuck,
		WriteTimeout:     *lf.wt,
		Live:             stdout,
		Redraw:           !*plain && isTerminal(stdout),
	}
	if _, err := designs.Lookup(cfg.Designs); err != nil {
		return flagError(fs, "-designs", "%v", err)
	}
	if *out != "" {
		if err := checkOutDir(*out); err != nil {
			return flagError(fs, "-out", "%v", err)
		}
	}
	fmt.Fprintf(stdout, "stallproof chaos: %s side by side, %d healthy + %d faulty clients each; Ctrl-C stops early\n\n",
		strings.Join(cfg.Designs, ", "), cfg.Healthy, cfg.Faulty)
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		return err
	}
	chaos.WriteSummary(stdout, rep)
	if *out != "" {
		paths, err := chaos.WriteFiles(*out, rep)
		if err != nil {
			return fmt.Errorf("-out: %w", err)
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
