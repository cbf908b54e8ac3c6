package server

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/wire"
)

// BenchmarkVotePath is the work a connection's reader does per vote once
// the line is in its buffer: parse, count under the tally lock, format OK,
// queue the reply for the writer, wake the broadcaster. No network.
// "one" flushes after every vote (a client waiting for each OK); "batch"
// flushes once per 64 pipelined votes, as the reader does when a read
// returns many lines.
func BenchmarkVotePath(b *testing.B) {
	for _, batch := range []int{1, maxBatchVotes} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := newServer(b, Config{})
			c := newConn(s, nil)
			line := []byte("VOTE green\n")
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				c.handle(line)
				if n++; n%batch == 0 {
					c.flush()
					c.mu.Lock()
					c.out = c.out[:0]
					c.mu.Unlock()
				}
			}
			select {
			case <-s.wake:
			default:
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		s := newServer(b, Config{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			c := newConn(s, nil)
			line := []byte("VOTE green\n")
			for pb.Next() {
				c.handle(line)
				c.flush()
				c.mu.Lock()
				c.out = c.out[:0]
				c.mu.Unlock()
			}
		})
	})
}

// BenchmarkLockHold measures how long the tally lock is held.
//
// ns/op is one uncontended Lock, critical section, Unlock: an upper bound
// on the hold time. Under "contended", every goroutine votes and the time
// between acquiring and releasing the lock is measured with the monotonic
// clock inside the lock (which adds one clock read to it); hold-ns/op is
// its mean and p99-hold-ns the upper bound of its 99th percentile (a
// power of two; the maximum is meaningless: a thread descheduled inside
// the lock counts).
func BenchmarkLockHold(b *testing.B) {
	vote := []uint8{1}
	batch := make([]uint8, maxBatchVotes)
	for _, tc := range []struct {
		name string
		opts int
		f    func(t *tally, dst []uint64)
	}{
		{"vote", 3, func(t *tally, _ []uint64) { t.add(vote) }},
		{"vote-batch-64", 3, func(t *tally, _ []uint64) { t.add(batch) }},
		{"read-3-options", 3, func(t *tally, dst []uint64) { t.read(dst) }},
		{"read-64-options", 64, func(t *tally, dst []uint64) { t.read(dst) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			t := newTally(tc.opts)
			dst := make([]uint64, tc.opts)
			b.ReportAllocs()
			for b.Loop() {
				tc.f(t, dst)
			}
		})
	}
	b.Run("contended", func(b *testing.B) {
		t := newTally(3)
		var mu sync.Mutex
		var hist [64]int64 // hist[i]: holds of [2^(i-1), 2^i) ns
		var total time.Duration
		b.RunParallel(func(pb *testing.PB) {
			var h [64]int64
			var sum time.Duration
			for pb.Next() {
				t.mu.Lock()
				t0 := time.Now()
				t.addLocked(vote)
				d := time.Since(t0)
				t.mu.Unlock()
				sum += d
				h[bits.Len64(uint64(d))]++
			}
			mu.Lock()
			total += sum
			for i, n := range h {
				hist[i] += n
			}
			mu.Unlock()
		})
		var ops int64
		for _, n := range hist {
			ops += n
		}
		if ops == 0 {
			return
		}
		// p99: the upper bound of the bucket holding the 99th percentile.
		var seen int64
		for i, n := range hist {
			if seen += n; seen >= ops*99/100 {
				b.ReportMetric(float64(uint64(1)<<i), "p99-hold-ns")
				break
			}
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(ops), "hold-ns/op")
	})
}

// BenchmarkVotes measures votes/s through real connections: 90 voting
// clients, each waiting for its OK before the next vote, and 10 more
// clients that only subscribe to tallies. With stalled=0 the 10 read
// everything; with stalled=10 they never read, so the server's writes to
// them block (WriteTimeout is longer than the run). The goal is that the
// two figures are the same: stalled clients cost the others nothing.
func BenchmarkVotes(b *testing.B) {
	for _, tr := range transports {
		for _, stalled := range []bool{false, true} {
			name := fmt.Sprintf("%s/stalled=0", tr.name)
			if stalled {
				name = fmt.Sprintf("%s/stalled=10", tr.name)
			}
			b.Run(name, func(b *testing.B) { benchVotes(b, tr, 90, 10, stalled) })
		}
	}
}

func benchVotes(b *testing.B, tr transport, voters, watchers int, stalled bool) {
	e := start(b, tr, Config{}, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var stalledClients []*client
	for range watchers {
		c := e.dial(b)
		if stalled {
			stall(c)
			stalledClients = append(stalledClients, c)
			continue
		}
		wg.Go(func() {
			buf := make([]byte, 4096)
			for {
				c.nc.SetReadDeadline(time.Now().Add(bound))
				if _, err := c.nc.Read(buf); err != nil {
					select {
					case <-stop:
					default:
						b.Errorf("watcher: %v", err)
					}
					return
				}
			}
		})
	}
	vs := make([]*client, voters)
	for i := range vs {
		vs[i] = e.dial(b)
	}
	if stalled {
		fillStalled(b, e, vs[0], stalledClients) // their writers are blocked before timing starts
	}
	b.ResetTimer()
	t0 := time.Now()
	var vwg sync.WaitGroup
	per := b.N/voters + 1
	for i, c := range vs {
		vwg.Go(func() {
			opt := c.Options()[i%len(c.Options())]
			c.nc.SetDeadline(time.Now().Add(6 * bound)) // a frozen server fails the run
			for range per {
				if err := voteUnchecked(c, opt); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	vwg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(per*voters)/elapsed.Seconds(), "votes/s")
	st := e.s.Stats()
	b.ReportMetric(float64(st.SnapshotsSent)/elapsed.Seconds(), "pushes/s")
	b.ReportMetric(float64(st.Snapshots)/elapsed.Seconds(), "broadcasts/s")
	close(stop)
	e.s.Close()
	wg.Wait()
}

// BenchmarkIdleConnMemory measures the memory one idle client costs the
// server, with 10,000 clients connected over the in-memory network, each
// having read its HELLO and tally: heap plus goroutine stacks after GC,
// divided by the number of clients. B/conn includes both ends of the
// in-memory connection; server-B/conn subtracts what 10,000 bare
// connection pairs that carried the same bytes cost.
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 10_000
	if testing.Short() {
		b.Skip("10,000 connections")
	}
	var perConn, server float64
	for b.Loop() {
		bare := measure(func() func() {
			ends := make([]*faultnet.Conn, 0, 2*n)
			buf := make([]byte, 128)
			hello := wire.AppendTally(wire.AppendHello(nil, DefaultOptions), 0, DefaultOptions, make([]uint64, 3))
			for range n {
				c, s := faultnet.Pipe()
				s.Write(hello)
				c.Read(buf)
				ends = append(ends, c, s)
			}
			return func() {
				for _, c := range ends {
					c.Close()
				}
			}
		})
		full := measure(func() func() {
			s := newServer(b, Config{})
			ln := faultnet.Listen()
			errc := make(chan error, 1)
			go func() { errc <- s.Serve(context.Background(), ln) }()
			conns := make([]*faultnet.Conn, 0, n)
			buf := make([]byte, 128)
			for range n {
				c, err := ln.Dial(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for got == 0 || buf[got-1] != '\n' || strings.Count(string(buf[:got]), "\n") < 2 {
					k, err := c.Read(buf[got:])
					if err != nil {
						b.Fatal(err)
					}
					got += k
				}
				conns = append(conns, c)
			}
			return func() {
				s.Close()
				<-errc
				for _, c := range conns {
					c.Close()
				}
			}
		})
		perConn = full / n
		server = (full - bare) / n
	}
	b.ReportMetric(perConn, "B/conn")
	b.ReportMetric(server, "server-B/conn")
}

// measure returns how much heap and stack setup's state holds after GC;
// setup returns the function that releases it.
func measure(setup func() (release func())) float64 {
	used := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc + m.StackInuse
	}
	before := used()
	release := setup()
	after := used()
	release()
	return float64(after) - float64(before)
}

// BenchmarkBroadcast is one broadcast to 10,000 idle clients: copy the
// tally, format the snapshot, offer it to every mailbox. ns/client is the
// cost per client. It bounds the broadcast rate (coalescing keeps the
// vote path O(1) whatever it is).
func BenchmarkBroadcast(b *testing.B) {
	const n = 10_000
	s := newServer(b, Config{})
	for range n {
		c := newConn(s, nil)
		c.idx = len(s.conns)
		s.conns = append(s.conns, c)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.broadcastLoop(stop)
	}()
	vote := []uint8{0}
	b.ReportAllocs()
	for b.Loop() {
		seq := s.tally.add(vote)
		s.wakeBroadcaster()
		for s.conns[n-1].lastSeq() < seq {
			runtime.Gosched()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/client")
	close(stop)
	<-done
}

func (c *conn) lastSeq() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// BenchmarkStalledRatio puts the two cases of BenchmarkVotes side by side
// in one run: two servers, each with 90 voting clients and 10 subscribers
// that read (healthy) or never read (stalled), measured in alternating
// rounds of 50 ms, so that both see the same machine. It reports the votes/s
// of each and their ratio, stalled ÷ healthy (goal ≥ 0.95).
func BenchmarkStalledRatio(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			healthy := newRig(b, tr, 90, 10, false)
			stalled := newRig(b, tr, 90, 10, true)
			var hv, sv int64
			var ht, st time.Duration
			for b.Loop() {
				n, d := healthy.round(b, 50*time.Millisecond)
				hv, ht = hv+n, ht+d
				n, d = stalled.round(b, 50*time.Millisecond)
				sv, st = sv+n, st+d
			}
			h, s := float64(hv)/ht.Seconds(), float64(sv)/st.Seconds()
			b.ReportMetric(h, "healthy-votes/s")
			b.ReportMetric(s, "stalled-votes/s")
			b.ReportMetric(s/h, "ratio")
			healthy.close()
			stalled.close()
		})
	}
}

// rig is a server with voting clients and subscribers, for benchmarks.
type rig struct {
	e      *env
	voters []*client
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newRig(b *testing.B, tr transport, voters, subscribers int, stalled bool) *rig {
	r := &rig{e: start(b, tr, Config{}, nil), stop: make(chan struct{})}
	var stalledClients []*client
	for range subscribers {
		c := r.e.dial(b)
		if stalled {
			stall(c)
			stalledClients = append(stalledClients, c)
			continue
		}
		c.nc.SetReadDeadline(time.Time{}) // it reads until close ends the server
		r.wg.Go(func() {
			buf := make([]byte, 4096)
			for {
				if _, err := c.nc.Read(buf); err != nil {
					select {
					case <-r.stop:
					default:
						b.Errorf("subscriber: %v", err)
					}
					return
				}
			}
		})
	}
	for range voters {
		r.voters = append(r.voters, r.e.dial(b))
	}
	if stalled {
		fillStalled(b, r.e, r.voters[0], stalledClients)
	}
	return r
}

// round has every voter vote, each waiting for its OK, for d; it returns
// the votes acknowledged and the time taken.
func (r *rig) round(b *testing.B, d time.Duration) (int64, time.Duration) {
	var total atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	deadline := t0.Add(d)
	for i, c := range r.voters {
		wg.Go(func() {
			opt := c.Options()[i%len(c.Options())]
			c.nc.SetDeadline(deadline.Add(bound)) // a frozen server fails the round
			n := int64(0)
			for time.Now().Before(deadline) {
				if err := voteUnchecked(c, opt); err != nil {
					b.Error(err)
					return
				}
				n++
			}
			total.Add(n)
		})
	}
	wg.Wait()
	return total.Load(), time.Since(t0)
}

// voteUnchecked votes for opt and reads up to its OK, without parsing or
// checking the lines: the benchmarks measure the server, not the client.
func voteUnchecked(c *client, opt string) error {
	if err := c.Vote(opt); err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	for {
		l, err := c.ReadLine()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if wire.KindOf(l) == wire.MsgOK {
			return nil
		}
	}
}

func (r *rig) close() {
	close(r.stop)
	r.e.s.Close()
	r.wg.Wait()
}
