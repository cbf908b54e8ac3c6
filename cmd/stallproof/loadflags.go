package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/stallproof/stallproof/internal/load"
)

// loadFlags are the flags that chaos and bench share: the clients, their
// faults, the pace and the network. Both give them the same meaning.
type loadFlags struct {
	fs       *flag.FlagSet
	n, k     *int
	faults   *string
	faultAt  *time.Duration
	duration *time.Duration
	rate     *float64
	seed     *uint64
	tcp      *bool
	sockBuf  *int
	wt       *time.Duration
}

// loadDefaults are a command's defaults for the shared flags.
type loadDefaults struct {
	n, k     int
	faults   string
	faultAt  time.Duration
	duration time.Duration
	rate     float64
	sockBuf  int
	tcpUsage string
}

func addLoadFlags(fs *flag.FlagSet, d loadDefaults) *loadFlags {
	lf := &loadFlags{
		fs:       fs,
		n:        fs.Int("n", d.n, "healthy voting clients"),
		k:        fs.Int("k", d.k, "faulty clients: subscribers that never vote and fail on a schedule"),
		faults:   fs.String("faults", d.faults, "fault `mix`, cycled over the faulty clients: stall, trickle, halfclose, reset"),
		faultAt:  fs.Duration("fault-at", d.faultAt, "when the first faulty client fails"),
		duration: fs.Duration("duration", d.duration, "how long the clients vote"),
		rate:     fs.Float64("rate", d.rate, "votes/s per healthy client; 0 for as fast as answered"),
		seed:     fs.Uint64("seed", 1, "seed for the votes and the clients' timing"),
		tcp:      fs.Bool("tcp", false, d.tcpUsage),
		sockBuf:  fs.Int("socket-buffer", d.sockBuf, "with -tcp: each connection's socket buffers (SO_SNDBUF, SO_RCVBUF), in `bytes`"),
		wt:       fs.Duration("write-timeout", 0, "the in-process reference server's write timeout (default the server's, 10s)"),
	}
	oldFlagName(fs, "kernel-buffer", "socket-buffer")
	return lf
}

// check validates the shared flags, with extra the time spent before the
// measured duration (bench's -warmup), and returns the fault mix. An
// error has been printed, naming the flag.
func (lf *loadFlags) check(extra time.Duration) ([]load.Fault, error) {
	mix, err := load.ParseFaults(*lf.faults)
	switch {
	case err != nil:
		return nil, flagError(lf.fs, "-faults", "%v", err)
	case *lf.n < 1:
		return nil, flagError(lf.fs, "-n", "want 1 or more healthy clients, got %d", *lf.n)
	case *lf.k < 0:
		return nil, flagError(lf.fs, "-k", "want 0 or more faulty clients, got %d", *lf.k)
	case *lf.n+*lf.k > load.MaxClients:
		return nil, flagError(lf.fs, "-n, -k", "%d clients in all; want at most %d", *lf.n+*lf.k, load.MaxClients)
	case *lf.duration <= 0 || *lf.duration+extra > load.MaxDuration:
		return nil, flagError(lf.fs, "-duration", "want more than 0 and at most %v in all, got %v", load.MaxDuration, *lf.duration+extra)
	case *lf.rate < 0:
		return nil, flagError(lf.fs, "-rate", "want 0 (as fast as answered) or more votes/s, got %g", *lf.rate)
	case *lf.faultAt < 0:
		return nil, flagError(lf.fs, "-fault-at", "want 0 or more, got %v", *lf.faultAt)
	case *lf.sockBuf < 0:
		return nil, flagError(lf.fs, "-socket-buffer", "want 0 (the default) or more bytes, got %d", *lf.sockBuf)
	case *lf.wt < 0:
		return nil, flagError(lf.fs, "-write-timeout", "want 0 (the server's default) or more, got %v", *lf.wt)
	}
	return mix, nil
}

// flagError prints "stallproof <command>: <flag>: <message>" and returns
// errUsage: a command's arguments are wrong, and the message says which.
func flagError(fs *flag.FlagSet, flagName, format string, args ...any) error {
	fmt.Fprintf(stderr, "stallproof %s: %s: %s\n", fs.Name(), flagName, fmt.Sprintf(format, args...))
	return errUsage
}

// checkOutDir makes sure dir exists (creating it) and a file can be
// written in it, so that a run fails before it starts rather than after.
func checkOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".stallproof-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
