package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/stallproof/stallproof/cmd/stallproof/internal/designs"
	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/internal/load"
)

// Defaults for a zero Config field: about 20 seconds in all.
const (
	DefaultHealthy          = 50
	DefaultFaulty           = 4
	DefaultFaults           = "stall,trickle,halfclose,reset"
	DefaultFaultAt          = 3 * time.Second
	DefaultFaultEvery       = time.Second
	DefaultDuration         = 18 * time.Second
	DefaultRate             = 20.0 // votes/s per healthy client
	DefaultSocketBufferSize = harness.DefaultSocketBufferSize
)

// DefaultDesigns are the designs Run compares when Config.Designs is empty
// (package designs lists them all).
var DefaultDesigns = []string{"reference", "lock-across-write", "broadcast-worker"}

// loadLabel is the profiler label on the load's goroutines, whose value
// is the design's name; the designs' own goroutines carry
// harness.ServerLabel.
const loadLabel = "stallproof-load"

// Config describes a chaos run. Zero fields take the defaults.
type Config struct {
	Designs []string // DefaultDesigns if empty

	Healthy, Faulty     int
	Faults              []load.Fault
	FaultAt, FaultEvery time.Duration
	Duration            time.Duration // of voting
	Rate                float64       // votes/s per healthy client; < 0: as fast as answered
	Seed                uint64
	Interval            time.Duration // between samples and table refreshes; 1 s
	StuckAfter          time.Duration // see load.Config; 2 s

	// TCP runs each design on real loopback TCP (127.0.0.1, an ephemeral
	// port) with the socket buffers cut to SocketBufferSize bytes, instead
	// of the in-memory network.
	TCP              bool
	SocketBufferSize int
	// BufferSize is the in-memory network's buffer per direction
	// (faultnet.DefaultBufferSize, 64 KiB).
	BufferSize int

	// WriteTimeout is the reference server's (server.DefaultWriteTimeout).
	WriteTimeout time.Duration
	// StopWait bounds the wait for each design to stop at the end
	// (harness.DefaultStopWait).
	StopWait time.Duration

	// Live, if set, gets the table every Interval; Redraw redraws it in
	// place with ANSI escapes (for a terminal) instead of appending.
	Live   io.Writer
	Redraw bool
}

func (c Config) withDefaults() Config {
	if len(c.Designs) == 0 {
		c.Designs = DefaultDesigns
	}
	if c.Healthy <= 0 {
		c.Healthy = DefaultHealthy
	}
	if c.Faulty < 0 {
		c.Faulty = 0
	}
	if len(c.Faults) == 0 {
		c.Faults, _ = load.ParseFaults(DefaultFaults)
	}
	if c.Duration <= 0 {
		c.Duration = DefaultDuration
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Rate < 0 {
		c.Rate = 0
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.StuckAfter <= 0 {
		c.StuckAfter = load.DefaultStuckAfter
	}
	if c.SocketBufferSize <= 0 {
		c.SocketBufferSize = DefaultSocketBufferSize
	}
	if c.BufferSize <= 0 {
		c.BufferSize = faultnet.DefaultBufferSize
	}
	if c.StopWait <= 0 {
		c.StopWait = harness.DefaultStopWait
	}
	return c
}

// Run runs every design at once, each on its own listener, each under the
// same load (same clients, same seed, same fault schedule), for
// cfg.Duration; then it stops them, each within cfg.StopWait, and returns
// the report with a verdict per design. A design that does not stop is
// reported (DesignReport.Stopped false) and left running.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	ds, err := designs.Lookup(cfg.Designs)
	if err != nil {
		return nil, err
	}
	rep := newReport(cfg)
	sampled := make(chan struct{}, 1)
	runs := make([]*designRun, len(ds))
	for i, d := range ds {
		runs[i] = &designRun{d: d, rep: &rep.Designs[i], sampled: sampled}
		rep.Designs[i].Name, rep.Designs[i].About = d.Name, d.About
	}
	defer func() {
		for _, r := range runs {
			r.stop(cfg.StopWait) // after an early error; a no-op otherwise
		}
	}()
	for _, r := range runs {
		if err := r.start(cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", r.d.Name, err)
		}
	}

	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	for i, r := range runs {
		lcfg := load.Config{
			Dial:       r.dial,
			Healthy:    cfg.Healthy,
			Faulty:     cfg.Faulty,
			Faults:     cfg.Faults,
			FaultAt:    cfg.FaultAt,
			FaultEvery: cfg.FaultEvery,
			Duration:   cfg.Duration,
			Interval:   cfg.Interval,
			Rate:       cfg.Rate,
			StuckAfter: cfg.StuckAfter,
			Seed:       cfg.Seed,
			OnSample:   r.sample,
		}
		wg.Go(func() {
			harness.Labelled(loadLabel, r.d.Name, func() {
				res, err := load.Run(ctx, lcfg)
				r.mu.Lock()
				r.rep.Result = res
				r.mu.Unlock()
				errs[i] = err
			})
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// A frame of the live table is drawn once every design has its sample
	// for that interval, so each frame shows one interval's numbers and is
	// labelled with its time, never twice and never skipped.
	live := &table{cfg: cfg, w: cfg.Live, redraw: cfg.Redraw}
	frames := 0
	for running := true; running; {
		select {
		case <-sampled:
		case <-done:
			running = false
		}
		for ; frames < minSamples(runs); frames++ {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			rep.HeapBytes = append(rep.HeapBytes, ms.HeapAlloc)
			live.render(runs, frames, ms.HeapAlloc)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rep.Interrupted = ctx.Err() != nil
	for _, r := range runs {
		r.stop(cfg.StopWait)
	}
	counts := goroutinesAfterStop()
	for _, r := range runs {
		if r.srv != nil {
			r.rep.GoroutinesAfterStop = counts[r.srv.Label()]
		}
		r.rep.judge(cfg)
	}
	return rep, nil
}

// minSamples is the number of samples every design has.
func minSamples(runs []*designRun) int {
	n := -1
	for _, r := range runs {
		r.mu.Lock()
		k := len(r.samples)
		r.mu.Unlock()
		if n < 0 || k < n {
			n = k
		}
	}
	return max(n, 0)
}

// goroutinesAfterStop counts the designs' goroutines once they have
// stopped, giving goroutines that end just after Serve returns (as a
// leaking design's may) up to a second to go.
func goroutinesAfterStop() map[string]int {
	deadline := time.Now().Add(time.Second)
	for {
		counts := harness.GoroutinesByLabel(harness.ServerLabel)
		if len(counts) == 0 || time.Now().After(deadline) {
			return counts
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// designRun is one design running under load.
type designRun struct {
	d         designs.Design
	rep       *DesignReport
	srv       *harness.Server
	dial      func(context.Context) (net.Conn, error)
	evictions func() uint64
	sampled   chan<- struct{} // signalled after every sample

	mu      sync.Mutex
	samples []load.Sample // every sample so far
}

func (r *designRun) start(cfg Config) error {
	serve, evictions, err := r.d.Start(cfg.WriteTimeout)
	if err != nil {
		return err
	}
	r.evictions = evictions
	ln, err := harness.Listen(harness.Network{
		TCP: cfg.TCP, SocketBufferSize: cfg.SocketBufferSize, BufferSize: cfg.BufferSize,
		Options: []faultnet.Option{faultnet.Name(r.d.Name)},
	})
	if err != nil {
		return err
	}
	r.dial = func(ctx context.Context) (net.Conn, error) { return ln.Dial(ctx) }
	r.srv = harness.Start(serve, ln, harness.Config{Name: r.d.Name})
	return nil
}

// sampled records a sample of the design's load, with the design's
// goroutines and evictions at that time.
func (r *designRun) sample(s load.Sample) {
	ev := uint64(s.ServerClosed)
	src := "clients"
	if r.evictions != nil {
		ev, src = r.evictions(), "server"
	}
	goroutines := harness.GoroutinesByLabel(harness.ServerLabel)[r.srv.Label()]
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.rep.Rows = append(r.rep.Rows, Row{
		At:          s.At.Seconds(),
		VotesPerSec: s.VotesPerSec,
		P50:         s.P50.Seconds() * 1e3,
		P99:         s.P99.Seconds() * 1e3,
		P99AtLeast:  s.P99AtLeast,
		Unanswered:  s.Unanswered,
		Stuck:       s.Stuck,
		Evictions:   ev,
		Goroutines:  goroutines,
	})
	r.rep.Evictions, r.rep.EvictionsFrom = ev, src
	r.mu.Unlock()
	select {
	case r.sampled <- struct{}{}:
	default:
	}
}

// stop stops the design, waiting up to wait for its Serve to return.
// It runs once.
func (r *designRun) stop(wait time.Duration) {
	if r.srv == nil {
		return
	}
	err := r.srv.Stop(wait)
	ok, took := r.srv.Stopped()
	r.rep.Stopped, r.rep.StopTime = ok, took.Seconds()
	if err != nil {
		r.rep.StopError = err.Error()
	}
}
