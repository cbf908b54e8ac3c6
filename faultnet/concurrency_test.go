package faultnet_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stallproof/stallproof/faultnet"
)

// TestFaultsFlippedUnderTraffic switches faults on and off from several
// goroutines while data flows both ways. Whatever the interleaving, once
// every fault is off all bytes arrive, in order, and nothing hangs. The
// faults must have met the traffic: bytes moved on a connection while a
// fault was on it, and a byte-count fault fired, or the test proved
// nothing.
func TestFaultsFlippedUnderTraffic(t *testing.T) {
	t.Parallel()
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
		var met, fired atomic.Int64 // injections that saw bytes move; that fired
		enough := make(chan struct{})
		var enoughOnce sync.Once
		moved := func(c *faultnet.Conn) int64 { st := c.Stats(); return st.Read + st.Written }
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
					before := moved(conn)
					inj := conn.Inject(faults[rnd.IntN(len(faults))]())
					time.Sleep(time.Duration(rnd.IntN(200)) * time.Microsecond) // lets traffic meet the fault
					inj.Remove()
					if moved(conn) > before {
						met.Add(1)
					}
					if inj.Fired() {
						fired.Add(1)
					}
					if met.Load() >= 20 && fired.Load() >= 1 {
						enoughOnce.Do(func() { close(enough) })
					}
				}
			}()
		}
		type result struct {
			n   int // bytes written
			got []byte
			err error
		}
		// pump writes pattern(size) chunks from w until the flipping stops
		// (a bounded number: traffic must last as long as the faults do),
		// then half-closes; the reader reads to EOF.
		pump := func(w, r *faultnet.Conn) (chan result, chan result) {
			wres, rres := make(chan result, 1), make(chan result, 1)
			go func() {
				n := 0
				for range 4096 {
					select {
					case <-stop:
						wres <- result{n: n, err: w.CloseWrite()}
						return
					default:
					}
					k, err := w.Write(pattern(size))
					n += k
					if err != nil {
						wres <- result{n: n, err: err}
						return
					}
				}
				wres <- result{n: n, err: w.CloseWrite()}
			}()
			go func() {
				b, err := io.ReadAll(r)
				rres <- result{got: b, err: err}
			}()
			return wres, rres
		}
		w1, r1 := pump(c, s)
		w2, r2 := pump(s, c)
		// Flip until enough faults have met the traffic (or the bound).
		select {
		case <-enough:
		case <-time.After(liveness):
		}
		close(stop)
		flippers.Wait()
		assert.GreaterOrEqual(t, met.Load(), int64(20), "injections during which bytes moved")
		assert.GreaterOrEqual(t, fired.Load(), int64(1), "AfterRead faults that fired")
		deadline := time.After(liveness)
		var written [2]int
		for i, ch := range []chan result{w1, w2} {
			select {
			case r := <-ch:
				written[i] = r.n
				if r.err != nil {
					t.Errorf("Write: %v", r.err)
				}
			case <-deadline:
				t.Fatalf("Write stuck with every fault removed: %+v / %+v", c.Stats(), s.Stats())
			}
		}
		for i, ch := range []chan result{r1, r2} {
			select {
			case r := <-ch:
				if r.err != nil || len(r.got) != written[i] || !bytes.Equal(r.got, bytes.Repeat(pattern(size), (written[i]+size-1)/size)[:len(r.got)]) {
					t.Errorf("read %d bytes, %v; want all %d written, in order", len(r.got), r.err, written[i])
				}
			case <-deadline:
				t.Fatal("Read stuck with every fault removed")
			}
		}
	})
}

func TestEventLogKeepsTheFirst1024(t *testing.T) {
	t.Parallel()
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
