package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"
)

// Bounds on a run, whatever the Config says.
const (
	MaxClients  = 100_000
	MaxDuration = time.Hour
)

// Defaults for a zero Config field.
const (
	DefaultDuration       = 10 * time.Second
	DefaultInterval       = time.Second
	DefaultStuckAfter     = 2 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxVotes       = 1 << 30
)

// Config describes a run. Zero fields take the defaults above.
type Config struct {
	// Dial connects one client to the server under test. A connection that
	// is not a *faultnet.Conn is wrapped with faultnet.Wrap so that faults
	// can be injected into it.
	Dial func(ctx context.Context) (net.Conn, error)

	Healthy int // voting clients
	Faulty  int // subscribers that fail on a schedule

	// Faults is the mix: faulty client i gets Faults[i % len(Faults)].
	// Default: Stall.
	Faults []Fault
	// FaultAt is when the first faulty client's fault starts, from the
	// start of voting; faulty client i's starts at FaultAt + i·FaultEvery.
	FaultAt, FaultEvery time.Duration

	Duration time.Duration // of voting, after every client has connected
	// Warmup is left out of the totals in Result (not out of Samples); it
	// is rounded up to a whole number of intervals.
	Warmup   time.Duration
	Interval time.Duration // between Samples

	// Rate is the votes per second each healthy client sends at most.
	// 0 means as fast as the answers come back (a closed loop).
	Rate float64
	// MaxVotes bounds the votes of one healthy client.
	MaxVotes int

	// StuckAfter: a healthy client waiting longer for the answer to its
	// vote is stuck.
	StuckAfter time.Duration
	// ConnectTimeout bounds the time to connect every client and read
	// their HELLOs. Default: DefaultConnectTimeout plus 1 ms per client.
	ConnectTimeout time.Duration

	// Seed chooses the options voted for and when each client's first
	// vote starts. The same seed gives every client the same choices.
	Seed uint64

	// OnSample, if set, is called with every Sample as it is taken, from
	// the goroutine that called Run. It must not block.
	OnSample func(Sample)
}

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Dial == nil {
		return cfg, errors.New("load: no Dial")
	}
	if cfg.Healthy < 0 || cfg.Faulty < 0 || cfg.Healthy+cfg.Faulty > MaxClients {
		return cfg, fmt.Errorf("load: %d healthy and %d faulty clients: want 0 to %d in all", cfg.Healthy, cfg.Faulty, MaxClients)
	}
	if len(cfg.Faults) == 0 {
		cfg.Faults = []Fault{Stall}
	}
	if cfg.Duration <= 0 {
		cfg.Duration = DefaultDuration
	}
	cfg.Duration = min(cfg.Duration, MaxDuration)
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = DefaultStuckAfter
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout + time.Duration(cfg.Healthy+cfg.Faulty)*time.Millisecond
	}
	if cfg.MaxVotes <= 0 {
		cfg.MaxVotes = DefaultMaxVotes
	}
	if cfg.Rate < 0 {
		cfg.Rate = 0
	}
	return cfg, nil
}

// Run connects the clients, lets the healthy ones vote for cfg.Duration
// while the faulty ones fail on their schedule, and returns what it
// measured. It returns early, with what it measured so far, when ctx is
// done. Every goroutine it starts has ended when it returns, whatever the
// server does: at the end it closes every connection, which unblocks them.
//
// It fails only when a client cannot connect or read HELLO within
// cfg.ConnectTimeout.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	r := &run{cfg: cfg}
	defer r.stop()
	if err := r.connect(ctx); err != nil {
		return Result{}, err
	}
	return r.measure(ctx), nil
}

// run is one Run in progress.
type run struct {
	cfg     Config
	clients []*client
	wg      sync.WaitGroup
	end     chan struct{} // closed when voting ends
	endOnce sync.Once
	start   int64 // now() when voting started

	mu     sync.Mutex
	faults []FaultEvent
}

// connect dials every client, one after another, and waits for its HELLO.
func (r *run) connect(ctx context.Context) error {
	r.end = make(chan struct{})
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
	defer cancel()
	n := r.cfg.Healthy + r.cfg.Faulty
	for i := range n {
		conn, err := r.cfg.Dial(ctx)
		if err != nil {
			return fmt.Errorf("load: client %d of %d: dial: %w", i+1, n, err)
		}
		healthy := i < r.cfg.Healthy
		var fault Fault
		if !healthy {
			fault = r.cfg.Faults[(i-r.cfg.Healthy)%len(r.cfg.Faults)]
		}
		c := newClient(i, asFaultnet(conn), healthy, fault)
		r.clients = append(r.clients, c)
		r.wg.Go(c.read)
		select {
		case err = <-c.hello:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("load: client %d of %d: %w", i+1, n, err)
		}
	}
	return nil
}

// stop ends voting, closes every connection and waits for the clients.
func (r *run) stop() {
	r.endOnce.Do(func() {
		if r.end != nil {
			close(r.end)
		}
	})
	for _, c := range r.clients {
		c.conn.Close()
	}
	r.wg.Wait()
}

func (r *run) measure(ctx context.Context) Result {
	cfg := r.cfg
	r.start = now()
	first := r.read()
	var gap time.Duration
	if cfg.Rate > 0 {
		gap = time.Duration(float64(time.Second) / cfg.Rate)
	}
	for _, c := range r.clients {
		if c.healthy {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(c.id)))
			r.wg.Go(func() { c.vote(rng, gap, cfg.MaxVotes, r.end) })
		}
	}
	if cfg.Faulty > 0 {
		r.wg.Go(r.schedule)
	}

	var res Result
	deadline := time.NewTimer(cfg.Duration)
	defer deadline.Stop()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	prev, base := first, first
	warm := cfg.Warmup <= 0
	end := time.Now().Add(cfg.Duration)
	for done := false; !done; {
		select {
		case <-tick.C:
			if time.Until(end) < cfg.Interval/4 {
				continue // the deadline's sample, due at once, covers this interval
			}
		case <-deadline.C:
			done = true
		case <-ctx.Done():
			done = true
		}
		cur := r.read()
		s := between(prev, cur)
		s.Stuck, s.Lost, s.Faulted, s.ServerClosed = r.health(cur.at)
		res.Samples = append(res.Samples, s)
		res.MaxStuck = max(res.MaxStuck, s.Stuck)
		if cfg.OnSample != nil {
			cfg.OnSample(s)
		}
		prev = cur
		if !warm && cur.at >= cfg.Warmup {
			base, warm = cur, true
		}
		if done {
			res.Stuck, res.Lost, res.Faulted, res.ServerClosed = s.Stuck, s.Lost, s.Faulted, s.ServerClosed
		}
	}
	last := prev
	if base == last {
		base = first // the warmup took the whole run
	}
	var total Sample
	res.Latency, total = summary(base, last)
	res.Elapsed = total.Span
	res.Votes, res.VotesPerSec = total.Votes, total.VotesPerSec
	res.Tallies, res.TalliesPerSec = total.Tallies, total.TalliesPerSec

	r.endOnce.Do(func() { close(r.end) })
	for _, c := range r.clients {
		c.conn.Close()
	}
	r.wg.Wait()
	r.mu.Lock()
	res.Faults = slices.Clone(r.faults)
	r.mu.Unlock()
	res.FirstFault = -1
	if len(res.Faults) > 0 {
		res.FirstFault = res.Faults[0].At
	}
	res.Errors, res.FirstError = r.failures()
	return res
}

// read adds up the clients' counters.
func (r *run) read() *counts {
	t := now()
	c := &counts{at: time.Duration(t - r.start)}
	for _, cl := range r.clients {
		c.tallies += cl.tallies.Load()
		if cl.healthy {
			cl.lat.addTo(&c.lat)
			if sent := cl.sentAt.Load(); sent != 0 {
				c.pending.Record(time.Duration(t - sent + 1))
			}
		}
	}
	c.votes = c.lat.Count()
	return c
}

// health counts, at offset at, the healthy clients that are stuck or
// lost, the faulty clients whose fault has started, and those of them the
// server has closed.
func (r *run) health(at time.Duration) (stuck, lost, faulted, serverClosed int) {
	t := r.start + int64(at)
	for _, c := range r.clients {
		switch {
		case c.healthy:
			if c.ended() || c.voteErr.Load() != nil {
				lost++
				stuck++
			} else if c.stuck(t, r.cfg.StuckAfter) {
				stuck++
			}
		case c.faultedAt.Load() != 0:
			faulted++
			if c.fault.closedByServer() && c.serverClosed() {
				serverClosed++
			}
		}
	}
	return stuck, lost, faulted, serverClosed
}

// schedule starts the faulty clients' faults at their times.
func (r *run) schedule() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	k := 0
	for _, c := range r.clients {
		if c.healthy {
			continue
		}
		at := r.cfg.FaultAt + time.Duration(k)*r.cfg.FaultEvery
		k++
		if d := at - time.Duration(now()-r.start); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-r.end:
				return
			}
		}
		c.fault.apply(c.conn)
		t := now()
		c.faultedAt.Store(t + 1)
		r.mu.Lock()
		r.faults = append(r.faults, FaultEvent{Client: c.id, Fault: c.fault, At: time.Duration(t - r.start)})
		r.mu.Unlock()
	}
}

// failures counts the clients that failed other than as planned: a healthy
// client whose connection ended or whose vote failed, or a faulty client
// whose connection ended before its fault.
func (r *run) failures() (n int, first string) {
	for _, c := range r.clients {
		var err error
		switch {
		case c.healthy:
			if p := c.voteErr.Load(); p != nil {
				err = *p
			}
		case c.faultedAt.Load() == 0:
		default:
			continue
		}
		if err == nil && c.errs.Load() > 0 {
			err = fmt.Errorf("%d ERR replies", c.errs.Load())
		}
		if err == nil && c.ended() && c.readErr != nil && !errors.Is(c.readErr, net.ErrClosed) {
			err = c.readErr
		}
		if err != nil {
			n++
			if first == "" {
				first = fmt.Sprintf("client %d: %v", c.id, err)
			}
		}
	}
	return n, first
}
