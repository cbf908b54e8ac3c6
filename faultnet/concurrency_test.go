package faultnet_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// TestFaultsFlippedUnderTraffic switches faults on and off from several
// goroutines while data flows both ways. Whatever the interleaving, once
// every fault is off all bytes arrive, in order, and nothing hangs.
func TestFaultsFlippedUnderTraffic(t *testing.T) {
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t, faultnet.BufferSize(512), faultnet.Seed(1))
		faults := []func() faultnet.Fault{
			faultnet.StallReads,
			faultnet.BlockWrites,
			func() faultnet.Fault { return faultnet.ShortReads(3) },
			func() faultnet.Fault { return faultnet.RandomShortWrites(50) },
			func() faultnet.Fault { return faultnet.TrickleReads(64, 100*time.Microsecond) },
			func() faultnet.Fault { return faultnet.Latency(100*time.Microsecond, 50*time.Microsecond) },
			func() faultnet.Fault { return faultnet.Bandwidth(10 << 20) },
			func() faultnet.Fault { return faultnet.AfterRead(100, faultnet.StallReads()) },
		}
		const size = 64 << 10
		stop := make(chan struct{})
		var flippers sync.WaitGroup
		for g := range 4 {
			flippers.Add(1)
			go func() {
				defer flippers.Done()
				rnd := rand.New(rand.NewPCG(uint64(g), 0))
				for {
					select {
					case <-stop:
						return
					default:
					}
					conn := []*faultnet.Conn{c, s}[rnd.IntN(2)]
					inj := conn.Inject(faults[rnd.IntN(len(faults))]())
					_ = conn.Stats()
					time.Sleep(time.Duration(rnd.IntN(200)) * time.Microsecond) // lets traffic meet the fault
					inj.Remove()
				}
			}()
		}
		type result struct {
			got []byte
			err error
		}
		pump := func(w, r *faultnet.Conn) (chan error, chan result) {
			werr, rres := make(chan error, 1), make(chan result, 1)
			go func() {
				_, err := w.Write(pattern(size))
				werr <- err
			}()
			go func() {
				b, err := io.ReadAll(io.LimitReader(r, size))
				rres <- result{b, err}
			}()
			return werr, rres
		}
		w1, r1 := pump(c, s)
		w2, r2 := pump(s, c)
		time.Sleep(50 * time.Millisecond) // traffic under flipping faults
		close(stop)
		flippers.Wait()
		deadline := time.After(liveness)
		for _, ch := range []chan error{w1, w2} {
			select {
			case err := <-ch:
				if err != nil {
					t.Errorf("Write: %v", err)
				}
			case <-deadline:
				t.Fatalf("Write stuck with every fault removed: %+v / %+v", c.Stats(), s.Stats())
			}
		}
		for _, ch := range []chan result{r1, r2} {
			select {
			case r := <-ch:
				if r.err != nil || !bytes.Equal(r.got, pattern(size)) {
					t.Errorf("read %d bytes, %v; want all %d in order", len(r.got), r.err, size)
				}
			case <-deadline:
				t.Fatal("Read stuck with every fault removed")
			}
		}
	})
}

func TestEventLogKeepsTheFirst1024(t *testing.T) {
	c, _ := memoryPair(t)
	for range 600 {
		c.Inject(faultnet.StallReads()).Remove()
	}
	ev := c.Events()
	if len(ev) != 1024 {
		t.Fatalf("%d events kept, want 1024", len(ev))
	}
	if ev[0].Kind != faultnet.EventInject || ev[1023].Kind != faultnet.EventRemove {
		t.Errorf("first %v, last %v", ev[0], ev[1023])
	}
}
