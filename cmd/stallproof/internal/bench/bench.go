package bench

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

// Config describes a benchmark run. Zero fields take defaults.
type Config struct {
	// Addr is a loopback TCP address of a protocol v1 server to load.
	// Empty: run Design in this process.
	Addr string
	// Design is the design run in-process ("reference" by default; see
	// designs.All). TCP runs it on loopback TCP instead of in memory.
	Design string
	TCP    bool

	Healthy, Faulty int          // voting clients; faulty subscribers (default 90 and 10)
	Faults          []load.Fault // default: stall
	FaultAt         time.Duration
	Duration        time.Duration // measured, after Warmup (default 10 s)
	Warmup          time.Duration // default 1 s
	Rate            float64       // votes/s per healthy client; 0: as fast as answered
	Seed            uint64
	Interval        time.Duration // between samples (1 s)

	WriteTimeout     time.Duration // the reference server's (its default: 10 s)
	SocketBufferSize int           // TCP: socket buffers, bytes (harness.DefaultSocketBufferSize)
	StopWait         time.Duration // bound on stopping an in-process design (harness.DefaultStopWait)

	// Live, if set, gets a line per interval.
	Live io.Writer
}

// Defaults.
const (
	DefaultHealthy  = 90
	DefaultFaulty   = 10
	DefaultDuration = 10 * time.Second
	DefaultWarmup   = time.Second
)

// Result is what a benchmark run measured.
type Result struct {
	Target string      `json:"target"` // what was loaded
	Load   load.Result `json:"load"`

	// In-process runs only: the process's live heap after a forced GC at
	// the sample that ends the warmup and at the last sample, while every
	// client is connected (both ends of every connection and the load
	// generator included); the heap at every sample (without a GC); the
	// process's goroutines at the first two; the server's evictions, and whether the
	// design stopped within StopWait.
	InProcess   bool     `json:"in_process"`
	HeapStart   uint64   `json:"heap_start"`
	HeapEnd     uint64   `json:"heap_end"`
	HeapSamples []uint64 `json:"heap_samples"`
	// In memory: the bytes the server has written that its clients have
	// not read, held in the in-memory network's buffers (on the heap; on
	// real TCP the kernel holds them), at the same two instants.
	NetBufferedStart int64  `json:"net_buffered_start"`
	NetBufferedEnd   int64  `json:"net_buffered_end"`
	GoroutinesStart  int    `json:"goroutines_start"`
	GoroutinesEnd    int    `json:"goroutines_end"`
	Evictions        uint64 `json:"evictions"`
	EvictionsKnown   bool   `json:"evictions_known"`
	Stopped          bool   `json:"stopped"`
	StopError        string `json:"stop_error,omitempty"`

	Faulty int `json:"faulty"`
}

// HeapGrowthPerFaulty is the heap growth from the end of the warmup to the
// end of the load, divided by the faulty clients (0 if none).
func (r *Result) HeapGrowthPerFaulty() float64 {
	if r.Faulty == 0 {
		return 0
	}
	return (float64(r.HeapEnd) - float64(r.HeapStart)) / float64(r.Faulty)
}

// NetGrowthPerFaulty is the part of HeapGrowthPerFaulty that is bytes
// queued in the in-memory network's buffers (each at most its buffer size,
// 64 KiB, per connection): what a stalled client costs the kernel, not the
// server, on real TCP.
func (r *Result) NetGrowthPerFaulty() float64 {
	if r.Faulty == 0 {
		return 0
	}
	return float64(r.NetBufferedEnd-r.NetBufferedStart) / float64(r.Faulty)
}

func (c Config) withDefaults() Config {
	if c.Design == "" {
		c.Design = "reference"
	}
	if c.Healthy == 0 && c.Faulty == 0 {
		c.Healthy, c.Faulty = DefaultHealthy, DefaultFaulty
	}
	if c.Duration <= 0 {
		c.Duration = DefaultDuration
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.SocketBufferSize <= 0 {
		c.SocketBufferSize = harness.DefaultSocketBufferSize
	}
	if c.StopWait <= 0 {
		c.StopWait = harness.DefaultStopWait
	}
	return c
}

// CheckLoopback returns an error unless addr is a loopback address (see
// harness.CheckLoopback): bench loads only servers on this machine.
func CheckLoopback(addr string) error {
	if err := harness.CheckLoopback(addr); err != nil {
		return fmt.Errorf("%w: bench only loads servers on this machine", err)
	}
	return nil
}

// Run loads the target for cfg.Warmup + cfg.Duration and returns what it
// measured. An in-process design is stopped before Run returns, within
// cfg.StopWait (Result.Stopped says whether it did).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	res := &Result{Faulty: cfg.Faulty}
	var accepted struct {
		sync.Mutex
		conns []*faultnet.Conn // server ends, in memory
	}
	netBuffered := func() int64 {
		accepted.Lock()
		defer accepted.Unlock()
		var n int64
		for _, c := range accepted.conns {
			n += c.Stats().Unsent
		}
		return n
	}
	var dial func(context.Context) (net.Conn, error)
	var evictions func() uint64
	stop := func() {}
	if cfg.Addr != "" {
		if err := CheckLoopback(cfg.Addr); err != nil {
			return nil, err
		}
		res.Target = cfg.Addr
		sockBuf := cfg.SocketBufferSize
		dial = func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", cfg.Addr)
			if err != nil {
				return nil, err
			}
			_ = faultnet.SetSocketBufferSize(c, sockBuf) // so that a stalled client stalls the server soon
			return faultnet.Wrap(c), nil
		}
	} else {
		ds, err := designs.Lookup([]string{cfg.Design})
		if err != nil {
			return nil, err
		}
		serve, ev, err := ds[0].Start(cfg.WriteTimeout)
		if err != nil {
			return nil, err
		}
		evictions = ev
		network := harness.Network{TCP: cfg.TCP, SocketBufferSize: cfg.SocketBufferSize}
		if !cfg.TCP {
			network.Options = []faultnet.Option{faultnet.OnAccept(func(c *faultnet.Conn) {
				accepted.Lock()
				accepted.conns = append(accepted.conns, c)
				accepted.Unlock()
			})}
		}
		ln, err := harness.Listen(network)
		if err != nil {
			return nil, err
		}
		res.Target = cfg.Design + " in-process, in memory"
		if cfg.TCP {
			res.Target = fmt.Sprintf("%s in-process, loopback TCP %s (socket buffers %d B)", cfg.Design, ln.Addr(), cfg.SocketBufferSize)
		}
		dial = func(ctx context.Context) (net.Conn, error) { return ln.Dial(ctx) }
		srv := harness.Start(serve, ln, harness.Config{Name: cfg.Design})
		stop = func() {
			if err := srv.Stop(cfg.StopWait); err != nil {
				res.StopError = err.Error()
			}
			res.Stopped, _ = srv.Stopped()
		}
		res.InProcess = true
	}
	defer stop()

	warmed := cfg.Warmup == 0
	if warmed && res.InProcess {
		res.HeapStart, res.GoroutinesStart = harness.HeapAfterGC(), runtime.NumGoroutine()
		res.NetBufferedStart = netBuffered()
	}
	lcfg := load.Config{
		Dial:     dial,
		Healthy:  cfg.Healthy,
		Faulty:   cfg.Faulty,
		Faults:   cfg.Faults,
		FaultAt:  cfg.FaultAt,
		Duration: cfg.Warmup + cfg.Duration,
		Warmup:   cfg.Warmup,
		Interval: cfg.Interval,
		Rate:     cfg.Rate,
		Seed:     cfg.Seed,
		OnSample: func(s load.Sample) {
			var heap uint64
			if res.InProcess {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = ms.HeapAlloc
				if !warmed && s.At >= cfg.Warmup {
					// The same instant the load's totals start from.
					warmed = true
					res.HeapStart, res.GoroutinesStart = harness.HeapAfterGC(), runtime.NumGoroutine()
					res.NetBufferedStart = netBuffered()
				}
				if s.At >= cfg.Warmup+cfg.Duration {
					// The last sample: every client is still connected.
					res.HeapEnd, res.GoroutinesEnd = harness.HeapAfterGC(), runtime.NumGoroutine()
					res.NetBufferedEnd = netBuffered()
				}
			}
			res.HeapSamples = append(res.HeapSamples, heap)
			if cfg.Live != nil {
				writeSample(cfg.Live, s, heap, res.InProcess)
			}
		},
	}
	if cfg.Live != nil {
		fmt.Fprintf(cfg.Live, "%7s %10s %10s %9s %9s %9s %7s %9s\n", "t", "votes/s", "tallies/s", "ack p50", "ack p99", "ack max", "stuck", "heap MiB")
	}
	lr, err := load.Run(ctx, lcfg)
	if err != nil {
		return nil, err
	}
	res.Load = lr
	if evictions != nil {
		res.Evictions, res.EvictionsKnown = evictions(), true
	}
	stop()
	if res.InProcess && !res.Stopped {
		return res, errors.New(res.StopError)
	}
	return res, nil
}

func writeSample(w io.Writer, s load.Sample, heap uint64, inProcess bool) {
	h := "-"
	if inProcess {
		h = fmt.Sprintf("%.1f", float64(heap)/(1<<20))
	}
	fmt.Fprintf(w, "%6.1fs %10.0f %10.0f %9s %9s %9s %7d %9s\n", s.At.Seconds(), s.VotesPerSec, s.TalliesPerSec,
		load.FormatLatency(s.P50, s.P50AtLeast), load.FormatLatency(s.P99, s.P99AtLeast), load.FormatLatency(s.Max, s.MaxAtLeast), s.Stuck, h)
}
