package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/wire"
)

// longOptions are 64 options of 32 bytes: every TALLY line is kilobytes
// long, so a few pushed tallies fill a stalled client's buffers.
func longOptions() []string {
	opts := make([]string, wire.MaxOptions)
	for i := range opts {
		opts[i] = fmt.Sprintf("%032d", i)
	}
	return opts
}

func TestHalfClose(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		c := e.dial(t)
		const n = 50
		var req strings.Builder
		for i := range n {
			req.WriteString("VOTE " + []string{"red", "green", "blue"}[i%3] + "\n")
		}
		req.WriteString("VOTE red") // incomplete: dropped
		c.send(req.String())
		c.closeWrite()
		oks := 0
		var last wire.Msg
		for _, m := range c.expectEOF() {
			switch m.Kind {
			case wire.MsgOK:
				oks++
				if m.Seq != uint64(oks) {
					t.Fatalf("OK %d, want %d", m.Seq, oks)
				}
			case wire.MsgTally:
				last = m
			default:
				t.Fatalf("unexpected %v", m)
			}
		}
		if oks != n {
			t.Fatalf("%d OKs after half-close, want %d", oks, n)
		}
		if last.Kind != wire.MsgTally || last.Seq != n {
			t.Fatalf("latest tally %+v, want seq %d", last, n)
		}
		if st := e.s.Stats(); st.Seq != n {
			t.Fatalf("server counted %d votes, want %d (the partial line is dropped)", st.Seq, n)
		}
	})
}

func TestReset(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		keep := e.dial(t)
		c := e.dial(t)
		for range 10 {
			c.vote("red")
		}
		c.send("VOTE blue\nVOTE blue\n")
		c.nc.(*faultnet.Conn).Inject(faultnet.Reset())
		eventually(t, "reset client released", func() bool { return e.s.Stats().Connections == 1 })
		// Every acknowledged vote is counted; the server still serves.
		if st := e.s.Stats(); st.Votes["red"] != 10 {
			t.Fatalf("red = %d, want 10", st.Votes["red"])
		}
		keep.vote("green")
	})
}

func TestLineTimeout(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{LineTimeout: 200 * time.Millisecond}, nil)
		idle := e.dial(t)
		slow := e.dial(t)
		slow.send("VOTE re")
		if lines := slow.expectEOF(); len(lines) != 0 {
			t.Fatalf("slowloris got %v", lines)
		}
		if got := e.s.Stats().Closed.LineTimeout; got != 1 {
			t.Fatalf("Closed.LineTimeout = %d, want 1", got)
		}
		// A client idle between lines, for longer than LineTimeout, is not
		// timed out; nor is one whose line arrives in pieces in time.
		idle.send("VO")
		idle.send("TE gr")
		idle.send("een\n")
		if m := idle.reply(); m.Kind != wire.MsgOK {
			t.Fatalf("idle client: %+v", m)
		}
	})
}

// fillStalled votes through v until the server's writes to every stalled
// client are blocked: over the in-memory network, until their buffers are
// full; over TCP, until offers to them have been conflated many times
// (their writers are stuck).
func fillStalled(t testing.TB, e *env, v *client, stalled []*client) {
	t.Helper()
	full := func() bool {
		if e.tr.name == "mem" {
			for _, c := range stalled {
				if c.nc.(*faultnet.Conn).Stats().Unread < 16<<10 {
					return false
				}
			}
			return true
		}
		return e.s.Stats().SnapshotsConflated >= uint64(50*len(stalled))
	}
	deadline := time.Now().Add(bound)
	for !full() {
		if time.Now().After(deadline) {
			t.Fatalf("stalled clients' buffers not full after %d votes", e.s.Stats().Seq)
		}
		v.vote(v.Options()[len(v.Options())-1])
	}
}

// stall makes c stop reading, so the server's writes to it block once the
// buffers between them are full.
func stall(c *client) *faultnet.Injection {
	return c.nc.(*faultnet.Conn).Inject(faultnet.StallReads())
}

func TestStalledClientDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{Options: longOptions()}, nil)
		stalled := stalledClients(t, e, 3)
		voters := make([]*client, 4)
		for i := range voters {
			voters[i] = e.dial(t)
		}
		fillStalled(t, e, voters[0], stalled) // the server's writes to them now block
		seq0 := e.s.Stats().Seq
		const perVoter = 100
		var wg sync.WaitGroup
		errs := make(chan error, len(voters))
		for i, v := range voters {
			wg.Go(func() {
				for range perVoter {
					v.nc.SetDeadline(time.Now().Add(bound))
					if err := v.Vote(v.Options()[i]); err != nil {
						errs <- fmt.Errorf("voter %d: %v", i, err)
						return
					}
					if m, err := v.Reply(); err != nil || m.Kind != wire.MsgOK {
						errs <- fmt.Errorf("voter %d: got %v, %v; want OK", i, m, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if st := e.s.Stats(); st.Seq != seq0+perVoter*uint64(len(voters)) {
			t.Fatalf("seq %d, want %d", st.Seq, seq0+perVoter*uint64(len(voters)))
		}
	})
}

func TestStalledClientCatchesUp(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{Options: longOptions()}, nil)
		c := e.dial(t)
		inj := stall(c)
		v := e.dial(t)
		for range 200 {
			v.vote(v.Options()[0])
		}
		inj.Remove()
		m := c.waitTally(200) // seqs never went back, checked by next
		if m.Counts[0] != 200 {
			t.Fatalf("latest tally %+v", m)
		}
	})
}

func TestEvictWriteTimeout(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{Options: longOptions(), WriteTimeout: 50 * time.Millisecond}, nil)
		c := e.dial(t)
		stall(c)
		v := e.dial(t)
		voteUntil(t, v, v.Options()[1], "stalled client evicted", func() bool { return e.s.Stats().Evictions.WriteTimeout > 0 })
		st := e.s.Stats()
		if st.Evictions.WriteTimeout != 1 || st.Evictions.QueueFull != 0 {
			t.Fatalf("evictions %+v, want one write-timeout", st.Evictions)
		}
		eventually(t, "evicted client released", func() bool { return e.s.Stats().Connections == 1 })
		v.vote(v.Options()[2]) // the others carry on
	})
}

func TestFloodWithoutReading(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{MaxReplyBytes: 8 << 10}, nil)
		c := e.dial(t)
		stall(c)
		flood := []byte(strings.Repeat("VOTE red\n", 512))
		done := make(chan error, 1)
		go func() {
			for {
				c.nc.SetWriteDeadline(time.Now().Add(bound))
				if _, err := c.nc.Write(flood); err != nil {
					done <- err
					return
				}
			}
		}()
		select {
		case err := <-done:
			if errors.Is(err, errors.ErrUnsupported) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("flood ended with %v", err)
			}
		case <-time.After(2 * bound):
			t.Fatal("the server never stopped a client that floods without reading")
		}
		st := e.s.Stats()
		if st.Evictions.QueueFull != 1 {
			t.Fatalf("evictions %+v, want one queue-full", st.Evictions)
		}
		// Memory stayed bounded: the server read at most what fits in the
		// reply queue and the buffers before it evicted the client.
		eventually(t, "flooder released", func() bool { return e.s.Stats().Connections == 0 })
		v := e.dial(t)
		v.vote("blue")
	})
}

func TestAcceptErrors(t *testing.T) {
	t.Parallel()
	t.Run("tcp", func(t *testing.T) {
		s := newServer(t, Config{})
		ln := transports[1].listen(t)
		ln.FailAccepts(4)
		serve(t, s, ln)
		c := newClient(t, dialTCP(t, ln.Addr().String()))
		c.hello()
		c.vote("red")
		if got := s.Stats().AcceptErrors; got != 4 {
			t.Fatalf("AcceptErrors = %d, want 4", got)
		}
	})
	t.Run("mem", func(t *testing.T) {
		e := start(t, transports[0], Config{}, nil)
		e.ln.FailAccepts(3)
		c := e.dial(t)
		c.vote("green")
		if got := e.s.Stats().AcceptErrors; got != 3 {
			t.Fatalf("AcceptErrors = %d, want 3", got)
		}
	})
	t.Run("permanent", func(t *testing.T) {
		s := newServer(t, Config{})
		boom := errors.New("boom")
		inner := listenTCP(t)
		defer inner.Close()
		ln := &failingListener{Listener: inner, err: boom}
		err := s.Serve(context.Background(), ln)
		if !errors.Is(err, boom) {
			t.Fatalf("Serve = %v, want boom", err)
		}
		if err := s.Serve(context.Background(), inner); !errors.Is(err, ErrServerClosed) {
			t.Fatalf("second Serve = %v, want ErrServerClosed", err)
		}
	})
}

func TestBusy(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{MaxConns: 2}, nil)
		a := e.dial(t)
		e.dial(t)
		c := newClient(t, e.conn(t))
		lines := c.expectEOF()
		if len(lines) != 1 || lines[0].Kind != wire.MsgErr || lines[0].Code != wire.CodeBusy {
			t.Fatalf("third client got %v, want ERR busy", lines)
		}
		if got := e.s.Stats().Busy; got != 1 {
			t.Fatalf("Busy = %d", got)
		}
		a.send("QUIT\n")
		a.expectEOF()
		a.nc.Close()
		eventually(t, "client released", func() bool { return e.s.Stats().Connections == 1 })
		e.dial(t).vote("red")
	})
}

func TestShutdownWithStalledClients(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{Options: longOptions(), DrainTimeout: 200 * time.Millisecond}, nil)
		stalled := stalledClients(t, e, 5)
		healthy := e.dial(t)
		fillStalled(t, e, healthy, stalled)
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		t0 := time.Now()
		if err := e.s.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if d := time.Since(t0); d > bound/2 {
			t.Fatalf("Shutdown took %v", d)
		}
		// The healthy client got its replies and the latest tally, then EOF.
		healthy.expectEOF()
		if want, last := e.s.Stats().Seq, healthy.lastTally(); last.Seq != want {
			t.Fatalf("healthy client's latest tally: %d, want %d", last.Seq, want)
		}
		if st := e.s.Stats(); st.Connections != 0 {
			t.Fatalf("%d connections after Shutdown", st.Connections)
		}
	})
}

func TestShutdownContextExpires(t *testing.T) {
	t.Parallel()
	e := start(t, transports[0], Config{Options: longOptions(), DrainTimeout: time.Hour}, nil)
	c := e.dial(t)
	stall(c)
	fillStalled(t, e, e.dial(t), []*client{c})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
}

func TestShuttingDownReplies(t *testing.T) {
	t.Parallel()
	e := start(t, transports[0], Config{}, nil)
	c := e.dial(t)
	// As beginShutdown does, without closing anyone; undone before the
	// cleanup's Close, which would otherwise see a shutdown already begun.
	e.s.drainDeadline.Store(time.Now().Add(bound).UnixNano())
	e.s.quitting.Store(true)
	t.Cleanup(func() { e.s.quitting.Store(false) })
	c.send("VOTE red\n")
	if m := c.reply(); m.Kind != wire.MsgErr || m.Code != wire.CodeShuttingDown {
		t.Fatalf("got %+v, want ERR shutting-down", m)
	}
	c.send("QUIT\n")
	if m := c.reply(); m.Kind != wire.MsgBye {
		t.Fatalf("got %+v, want BYE", m)
	}
	if st := e.s.Stats(); st.Seq != 0 {
		t.Fatalf("a vote was counted while shutting down")
	}
}

func TestServeContext(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	ln := transports[0].listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	e := &env{s: s, ln: ln, tr: transports[0]}
	c := e.dial(t)
	c.vote("red")
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
	case <-time.After(bound):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	c.expectEOF()
	if err := s.Serve(context.Background(), ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after shutdown = %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseBeforeServe(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ln := listenTCP(t)
	defer ln.Close()
	if err := s.Serve(context.Background(), ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close = %v", err)
	}
}

// TestStalledClientsMemoryBounded checks that the server's memory does not
// grow with the tallies that stalled clients never read: each holds at most
// one pending snapshot. The run lasts until a server that queued every
// tally for them would hold four times the limit (broadcasts × 5 stalled
// clients × the TALLY line, about 2.3 KB with 64 long options), and a
// negative control shows that the same heap measurement sees that much.
func TestStalledClientsMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of votes")
	}
	const limit = 2 << 20 // bytes of heap growth allowed
	e := start(t, transports[0], Config{Options: longOptions()}, nil)
	stalled := stalledClients(t, e, 5)
	v := e.dial(t)
	fillStalled(t, e, v, stalled)
	line := len(wire.AppendTally(nil, e.s.Stats().Seq, v.Options(), v.lastTally().Counts))
	perBroadcast := len(stalled) * line // what a queueing server keeps per broadcast
	need := uint64(4*limit/perBroadcast + 1)

	before := harness.HeapAfterGC()
	b0 := e.s.Stats().Snapshots
	deadline := time.Now().Add(4 * bound)
	for e.s.Stats().Snapshots-b0 < need {
		require.False(t, time.Now().After(deadline), "only %d of %d broadcasts after %v", e.s.Stats().Snapshots-b0, need, 4*bound)
		v.vote(v.Options()[5])
	}
	after := harness.HeapAfterGC()
	broadcasts := e.s.Stats().Snapshots - b0
	naive := int(broadcasts) * perBroadcast
	t.Logf("%d broadcasts while 5 clients were stalled; heap %d -> %d bytes (queueing them all: %d MB)",
		broadcasts, before, after, naive>>20)
	assert.LessOrEqual(t, int64(after)-int64(before), int64(limit), "heap growth over %d broadcasts", broadcasts)

	// Negative control: keep what a queueing server would, and measure the
	// same way. If this stays under the limit, the check above proves nothing.
	kept := make([][]byte, 0, int(broadcasts)*len(stalled))
	for range cap(kept) {
		kept = append(kept, make([]byte, line))
	}
	control := harness.HeapAfterGC()
	runtime.KeepAlive(kept)
	require.Greater(t, int64(control)-int64(after), int64(limit), "the heap measurement does not see %d bytes kept", naive)
}
