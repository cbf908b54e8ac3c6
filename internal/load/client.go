package load

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/wire"
)

// epoch is the process's time origin: clients store instants as
// nanoseconds since it in atomics, on the monotonic clock.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

// client is one protocol v1 connection of the load: a healthy voter, or a
// faulty subscriber that never votes.
type client struct {
	id      int
	conn    *faultnet.Conn
	wc      *wire.Client // over conn: read by read, written by vote
	healthy bool
	fault   Fault // faulty clients only

	hello      chan error    // the outcome of reading HELLO; wc.Options are set before it
	readerDone chan struct{} // closed when read returns
	readErr    error         // why read returned; read after readerDone
	acks       chan struct{} // an answer to the outstanding vote

	sentAt    atomic.Int64 // now() when the outstanding vote was sent + 1; 0: none
	faultedAt atomic.Int64 // now() when the fault started + 1; 0: not yet
	voteErr   atomic.Pointer[error]

	votes   atomic.Uint64 // OK lines received (faulty clients: none)
	closed  atomic.Bool   // the server was seen to close the connection
	tallies atomic.Uint64 // TALLY lines received
	errs    atomic.Uint64 // ERR lines received
	lat     *recorder     // healthy clients only
}

func newClient(id int, conn *faultnet.Conn, healthy bool, fault Fault) *client {
	c := &client{
		id:         id,
		conn:       conn,
		wc:         wire.NewClient(conn),
		healthy:    healthy,
		fault:      fault,
		hello:      make(chan error, 1),
		readerDone: make(chan struct{}),
		acks:       make(chan struct{}, 1),
	}
	if healthy {
		c.lat = new(recorder)
	}
	return c
}

func (c *client) ended() bool {
	select {
	case <-c.readerDone:
		return true
	default:
		return false
	}
}

// read reads HELLO, then every line until the connection ends, recording
// the latency of each OK and counting TALLY and ERR lines. Only HELLO is
// parsed and checked: the load measures the server, so the other lines
// are only told apart by their first word.
func (c *client) read() {
	defer close(c.readerDone)
	_, err := c.wc.Greet()
	c.hello <- err
	if err != nil {
		c.readErr = err
		return
	}
	for {
		line, err := c.wc.ReadLine()
		if err != nil {
			c.readErr = err
			return
		}
		switch wire.KindOf(line) {
		case wire.MsgTally:
			c.tallies.Add(1)
		case wire.MsgOK:
			// A healthy client's votes are its latency histogram's count,
			// so that a sample's votes and latencies always agree.
			if t := c.sentAt.Swap(0); t != 0 && c.lat != nil {
				c.lat.record(time.Duration(now() - t + 1))
			} else {
				c.votes.Add(1)
			}
			c.answered()
		case wire.MsgErr:
			c.sentAt.Store(0)
			c.errs.Add(1)
			c.answered()
		}
	}
}

func (c *client) answered() {
	select {
	case c.acks <- struct{}{}:
	default:
	}
}

// vote sends up to maxVotes votes, one at a time: each waits for its
// answer. With gap > 0 a vote starts every gap at most (the first after a
// random fraction of gap, so that clients do not vote in step); a late
// answer delays the next vote rather than causing a burst. It returns when
// end is closed, the connection ends, or a write fails.
func (c *client) vote(rng *rand.Rand, gap time.Duration, maxVotes int, end <-chan struct{}) {
	opts := c.wc.Options()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	next := time.Now()
	if gap > 0 {
		next = next.Add(time.Duration(rng.Int64N(int64(gap))))
	}
	for range maxVotes {
		if gap > 0 {
			if d := time.Until(next); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-end:
					return
				}
			}
			next = next.Add(gap)
			if t := time.Now(); next.Before(t) {
				next = t
			}
		}
		select {
		case <-end:
			return
		default:
		}
		c.sentAt.Store(now() + 1)
		if err := c.wc.Vote(opts[rng.IntN(len(opts))]); err != nil {
			select {
			case <-end: // closed by the run as it ends
			default:
				c.voteErr.Store(&err)
			}
			return
		}
		select {
		case <-c.acks:
		case <-c.readerDone:
			return
		case <-end:
			return
		}
		if gap == 0 {
			// A closed loop over the in-memory network is a chain of
			// goroutine hand-offs (voter, server reader, server writer,
			// client reader, voter) that Go's scheduler runs back to back
			// on one P, starving the goroutines queued behind them (the
			// server's broadcaster, the sampler, other clients) for
			// seconds. Yielding after each answer breaks the chain.
			runtime.Gosched()
		}
	}
}

// stuck reports whether the client has waited longer than after for the
// answer to its vote, at instant t (as from now()).
func (c *client) stuck(t int64, after time.Duration) bool {
	s := c.sentAt.Load()
	return s != 0 && time.Duration(t-s+1) > after
}

// serverClosed reports whether the server has closed the connection: the
// client saw it end, or, in memory, the server's end logged its Close. A
// stalled client never reads the FIN, as a real one would not, so the
// in-memory check is what sees it evicted; over TCP only a connection that
// ended is seen.
func (c *client) serverClosed() bool {
	if c.closed.Load() {
		return true
	}
	seen := c.ended()
	if p := c.conn.Peer(); p != nil && !seen {
		for _, e := range p.Events() {
			if e.Kind == faultnet.EventClose || e.Kind == faultnet.EventReset {
				seen = true
				break
			}
		}
	}
	if seen {
		c.closed.Store(true)
	}
	return seen
}
