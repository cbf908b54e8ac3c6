package properties

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/wire"
)

// adapterMaxLine bounds the lines a client accepts from a server with its
// own protocol; protocol v1 lines are bounded by wire.MaxServerLine.
const adapterMaxLine = 64 << 10

// client is one protocol v1 client of the harness. A reader goroutine parses
// every line the server sends: replies (OK, ERR, BYE) go to a queue in
// order, and TALLY lines are checked as they arrive.
type client struct {
	id   int
	kind kind
	env  *env
	conn *faultnet.Conn
	bw   *bufio.Writer // used by the driver goroutine only

	hello   chan struct{} // closed once HELLO is read
	replies chan wire.Msg // OK, ERR and BYE lines, in order
	done    chan struct{} // closed when the reader ends

	mu        sync.Mutex
	opts      []string
	last      []string // the last lines received, for reports
	lastTally wire.Msg
	tallies   int
	readErr   error
	tallyCond *sync.Cond

	// driver state, used by the driver goroutine only
	stall   *faultnet.Injection // StallReads, while stalled
	tainted bool                // was stalled: no longer owed answers
	closed  bool                // closed, reset or half-closed by the driver
	lastAck uint64              // seq of this client's last OK
	quiet   atomic.Bool         // record no acks or tallies (memory measurements)
	nreq    int                 // requests made so far
	seen    []wire.Msg          // tallies received, rechecked at the audit; guarded by mu
}

// maxSeen bounds the tallies a client keeps for the final recheck.
const maxSeen = 4096

const keepLines = 6

func newClient(e *env, id int, k kind, conn *faultnet.Conn) *client {
	c := &client{
		id: id, kind: k, env: e, conn: conn,
		bw:      bufio.NewWriter(conn),
		hello:   make(chan struct{}),
		replies: make(chan wire.Msg, 1024),
		done:    make(chan struct{}),
	}
	c.tallyCond = sync.NewCond(&c.mu)
	return c
}

func (c *client) String() string { return fmt.Sprintf("client %d (%v)", c.id, c.kind) }

// readLoop reads and checks server lines until EOF or error.
func (c *client) readLoop() {
	defer close(c.done)
	defer func() {
		c.mu.Lock()
		c.tallyCond.Broadcast()
		c.mu.Unlock()
	}()
	br := bufio.NewReaderSize(c.conn, 4096)
	if a := c.env.cfg.adapter; a != nil {
		c.readGeneric(br, a)
		return
	}
	helloSeen := false
	for {
		line, err := readLine(br, wire.MaxServerLine)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			if !helloSeen {
				close(c.hello)
			}
			return
		}
		c.remember(line)
		c.mu.Lock()
		opts := c.opts
		c.mu.Unlock()
		m, perr := wire.ParseMsg(line, opts)
		if perr != nil {
			c.env.violate(propConsistency, "%v received a malformed line: %v", c, perr)
			continue
		}
		if !helloSeen {
			if m.Kind != wire.MsgHello {
				// ERR busy, for instance, comes instead of HELLO.
				c.replies <- m
				close(c.hello)
				helloSeen = true
				continue
			}
			c.mu.Lock()
			c.opts = m.Options
			c.mu.Unlock()
			c.env.learnOptions(m.Options, c)
			helloSeen = true
			close(c.hello)
			continue
		}
		switch m.Kind {
		case wire.MsgTally:
			c.onTally(m)
		case wire.MsgHello:
			c.env.violate(propConsistency, "%v received a second HELLO", c)
		default:
			select {
			case c.replies <- m:
			default: // only a client that stopped reading falls this far behind
			}
		}
	}
}

// readGeneric is readLoop for a server with its own protocol: the greeting,
// then replies (queued in order) and pushes (counted).
func (c *client) readGeneric(br *bufio.Reader, a *Adapter) {
	fail := func(err error) {
		c.mu.Lock()
		c.readErr = err
		c.mu.Unlock()
	}
	for range a.Greeting {
		line, err := readLine(br, adapterMaxLine)
		if err != nil {
			fail(err)
			close(c.hello)
			return
		}
		c.remember(line)
	}
	c.mu.Lock()
	c.opts = []string{} // greeted
	c.mu.Unlock()
	close(c.hello)
	for {
		line, err := readLine(br, adapterMaxLine)
		if err != nil {
			fail(err)
			return
		}
		c.remember(line)
		if a.IsReply(line) {
			select {
			case c.replies <- wire.Msg{Kind: wire.MsgOK, Text: line}:
			default:
			}
			continue
		}
		c.mu.Lock()
		c.tallies++
		c.tallyCond.Broadcast()
		c.mu.Unlock()
	}
}

func readLine(br *bufio.Reader, limit int) (string, error) {
	var sb strings.Builder
	for {
		frag, err := br.ReadSlice('\n')
		sb.Write(frag)
		if sb.Len() > limit {
			return "", fmt.Errorf("server line longer than %d bytes", limit)
		}
		if err == nil {
			return sb.String(), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if sb.Len() > 0 && errors.Is(err, io.EOF) {
				return "", fmt.Errorf("server line %q cut short by EOF", sb.String())
			}
			return "", err
		}
	}
}

func (c *client) remember(line string) {
	c.mu.Lock()
	if len(c.last) == keepLines {
		copy(c.last, c.last[1:])
		c.last = c.last[:keepLines-1]
	}
	c.last = append(c.last, strings.TrimRight(line, "\r\n"))
	c.mu.Unlock()
}

// onTally checks a TALLY line against this client's earlier ones and the
// votes the harness knows, then records it.
func (c *client) onTally(m wire.Msg) {
	c.mu.Lock()
	prev, n := c.lastTally, c.tallies
	if n > 0 && m.Seq < prev.Seq {
		c.mu.Unlock()
		c.env.violate(propConsistency, "%v: tally went back from seq %d to %d", c, prev.Seq, m.Seq)
		return
	}
	c.lastTally = m
	c.tallies++
	if !c.quiet.Load() && len(c.seen) < maxSeen {
		c.seen = append(c.seen, m)
	}
	c.tallyCond.Broadcast()
	c.mu.Unlock()
	c.env.checkTally(c, m)
}

// send writes one request line, with a deadline of the bound.
func (c *client) send(line string) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.env.cfg.bound))
	c.bw.WriteString(line)
	return c.bw.Flush()
}

// await returns the next reply, or an error once the bound has passed.
func (c *client) await(ctx context.Context) (wire.Msg, error) {
	b := c.env.newBound()
	defer b.stop()
	for {
		select {
		case m := <-c.replies:
			return m, nil
		case <-c.done:
			select {
			case m := <-c.replies:
				return m, nil
			default:
			}
			return wire.Msg{}, fmt.Errorf("connection ended: %v", c.err())
		case <-b.C():
			if b.expired() {
				return wire.Msg{}, errStuck
			}
		case <-ctx.Done():
			return wire.Msg{}, ctx.Err()
		}
	}
}

var errStuck = errors.New("no answer within the bound")

func (c *client) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// waitTally waits until this client has received a tally with seq ≥ seq.
func (c *client) waitTally(seq uint64) (wire.Msg, bool) {
	return c.waitFor(func() bool { return c.tallies > 0 && c.lastTally.Seq >= seq })
}

// waitTallies waits until this client has received n tallies in all.
func (c *client) waitTallies(n int) (wire.Msg, bool) {
	return c.waitFor(func() bool { return c.tallies >= n })
}

// waitFor waits, within the bound, until cond holds; cond runs with c.mu held.
func (c *client) waitFor(cond func() bool) (wire.Msg, bool) {
	b := c.env.newBound()
	defer b.stop()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // wake the waiter when the bound may have passed
		for {
			select {
			case <-stop:
				return
			case <-b.C():
				b.expired() // re-arms unless the bound has passed
				c.mu.Lock()
				c.tallyCond.Broadcast()
				c.mu.Unlock()
			}
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !cond() {
		if c.readErr != nil || b.left() <= 0 {
			return c.lastTally, false
		}
		c.tallyCond.Wait()
	}
	return c.lastTally, true
}

// lastLines returns the last lines received, for a failure report.
func (c *client) lastLines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.last...)
}

func (c *client) tallyCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tallies
}
