package properties_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	brokers "github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/report"
)

// ticker is a state feed: "SET value" makes the next price, numbered by
// one sequence for all publishers, and answers "OK seq"; every subscriber
// ("SUB", answered "OK 0") is pushed "PRICE seq value" through a one-slot
// mailbox that its own writer goroutine drains: a slow subscriber skips
// prices (conflation) but never holds up the others. The slot keeps the
// newest price; with staleSlot it keeps the oldest pending one instead, so
// a subscriber that fell behind is left holding a stale price: every push
// arrives, but not the newest state. With forgetSlow, a subscriber whose
// write blocked for longer than forgetAfter is silently taken off the
// subscriber list: its writer still sends what its slot held, the newest
// price at that moment, and then nothing more. With backOff, a writer
// whose write blocked for longer than forgetAfter waits backOff before it
// writes again. With pace, a writer waits pace after every write: a
// stalled subscriber's buffers take hours to fill. With readStop, the
// ticker stops a connection by ending its reads (a read deadline), not by
// closing it: a writer blocked on a stalled subscriber's full buffer is
// never let go, and Serve never returns.
type ticker struct {
	staleSlot  bool
	forgetSlow bool
	backOff    time.Duration
	pace       time.Duration
	readStop   bool

	mu   sync.Mutex
	seq  int
	subs map[*tickerSub]bool
}

type tickerSub struct {
	mu     sync.Mutex
	slot   []byte // the pending push, nil if none
	wake   chan struct{}
	closed bool
}

func (tk *ticker) Serve(ctx context.Context, ln net.Listener) error {
	tk.subs = map[*tickerSub]bool{}
	if tk.readStop {
		ln = readStopListener{ln}
	}
	return brokers.ServeConns(ctx, ln, func(_ context.Context, c net.Conn) { tk.serveConn(c) })
}

// readStopListener hands out readStopConns.
type readStopListener struct{ net.Listener }

func (l readStopListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return readStopConn{c}, nil
}

// readStopConn is readStop's connection: Close only ends reads.
type readStopConn struct{ net.Conn }

func (c readStopConn) Close() error { return c.SetReadDeadline(time.Now()) } // the bug: a Write goes on

func (tk *ticker) serveConn(c net.Conn) {
	defer c.Close()
	s := &tickerSub{wake: make(chan struct{}, 1)}
	var replies sync.Mutex // the reader's replies and the writer's pushes do not interleave
	done := make(chan struct{})
	defer func() {
		tk.mu.Lock()
		delete(tk.subs, s)
		tk.mu.Unlock()
		c.Close()
		<-done
	}()
	quit := make(chan struct{})
	go func() { // the writer: drains the slot
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-s.wake:
			}
			s.mu.Lock()
			msg, closed := s.slot, s.closed
			s.slot = nil
			s.mu.Unlock()
			if closed {
				return
			}
			if msg == nil {
				continue
			}
			replies.Lock()
			start := time.Now()
			_, err := c.Write(msg)
			slow := time.Since(start) > forgetAfter
			replies.Unlock()
			if err != nil {
				return
			}
			if tk.pace > 0 {
				select {
				case <-quit:
					return
				case <-time.After(tk.pace):
				}
			}
			if !slow {
				continue
			}
			if tk.forgetSlow {
				tk.mu.Lock()
				delete(tk.subs, s) // the bug: never told
				tk.mu.Unlock()
			}
			if tk.backOff > 0 {
				select {
				case <-quit:
					return
				case <-time.After(tk.backOff):
				}
			}
		}
	}()
	defer func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(quit)
	}()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSpace(line)
		var reply string
		switch {
		case line == "SUB":
			tk.mu.Lock()
			tk.subs[s] = true
			tk.mu.Unlock()
			reply = "OK 0\n"
		case strings.HasPrefix(line, "SET "):
			tk.mu.Lock()
			tk.seq++
			push := fmt.Appendf(nil, "PRICE %d %s\n", tk.seq, line[4:])
			for sub := range tk.subs {
				sub.offer(push, tk.staleSlot)
			}
			reply = fmt.Sprintf("OK %d\n", tk.seq)
			tk.mu.Unlock()
		default:
			reply = "ERR unknown\n"
		}
		replies.Lock()
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Write([]byte(reply))
		replies.Unlock()
		if err != nil {
			return
		}
	}
}

// offer puts push in the slot without blocking.
func (s *tickerSub) offer(push []byte, keepOldest bool) {
	s.mu.Lock()
	if s.closed || (keepOldest && s.slot != nil) {
		s.mu.Unlock()
		return
	}
	s.slot = push
	s.mu.Unlock()
	select { // wake the writer, which may be awake already
	case s.wake <- struct{}{}:
	default:
	}
}

// tickerProtocol describes the ticker, with prices versioned by their
// sequence number.
func tickerProtocol() properties.Protocol {
	return properties.Protocol{
		Name: "ticker",
		Roles: []properties.Role{
			{Name: "publisher", Publishes: true, NoGreeting: true,
				Request: func(id, n int) []byte { return fmt.Appendf(nil, "SET %d.%02d\n", 100+id, n%100) }},
			{Name: "subscriber", Subscribes: true,
				Hello: func(int) []byte { return []byte("SUB\n") }},
		},
		Greeted:  func(_ string, _ int, msg []byte) bool { return string(msg) == "OK 0" },
		Delivery: properties.Latest,
		Classify: func(_ string, msg []byte) properties.Class {
			switch {
			case bytes.HasPrefix(msg, []byte("PRICE ")):
				return properties.Push
			case bytes.HasPrefix(msg, []byte("ERR")):
				return properties.ErrorReply
			}
			return properties.Reply
		},
		Version: func(_ string, msg []byte) (int64, bool) {
			f := bytes.Fields(msg)
			if len(f) < 2 {
				return 0, false
			}
			v, err := strconv.ParseInt(string(f[1]), 10, 64)
			return v, err == nil
		},
	}
}

// tickerBackOff is how long a ticker's writer may wait after a slow write.
const tickerBackOff = 20 * time.Millisecond

// forgetAfter is how long a write of the forgetful ticker's may block
// before it forgets the subscriber.
const forgetAfter = 100 * time.Millisecond

// tickerEnv, in a child, names the broken ticker it runs delivery
// against: "stale" (staleSlot) or "forget" (forgetSlow, with backOff),
// and "forget-unversioned" is "forget" with a protocol that declares no
// Version; or "read-stop", the paced ticker with readStop, which it runs
// leaks against.
const tickerEnv = "STALLPROOF_TICKER_CHILD"

// TestTickerChild runs a property against the broken ticker tickerEnv
// names; only as a child of TestStaleIsCaught, TestForgottenIsCaught or
// TestShutdownWithFullBuffers (tickerFails).
func TestTickerChild(t *testing.T) {
	unversioned := tickerProtocol()
	unversioned.Version = nil
	forgetful := &ticker{forgetSlow: true, backOff: tickerBackOff}
	run := func(tk *ticker, p properties.Protocol, prop string) {
		properties.Run(t, tk.Serve, properties.WithProtocol(p), properties.Properties(prop))
	}
	switch os.Getenv(tickerEnv) {
	case "stale":
		run(&ticker{staleSlot: true}, tickerProtocol(), "delivery")
	case "forget":
		run(forgetful, tickerProtocol(), "delivery")
	case "forget-unversioned":
		run(forgetful, unversioned, "delivery")
	case "read-stop":
		run(&ticker{pace: 5 * time.Millisecond, readStop: true}, tickerProtocol(), "leaks")
	default:
		t.Skip("runs only as a child of a test that calls tickerFails")
	}
}

// TestLatestIsFresh: with Delivery Latest and a Version, delivery checks
// that subscribers hold the newest state, not only that pushes arrive: the
// ticker whose slot keeps the newest pending price passes (and one that
// keeps the oldest fails: TestStaleIsCaught).
func TestLatestIsFresh(t *testing.T) {
	if os.Getenv(tickerEnv) != "" {
		t.Skip("in a child")
	}
	for _, tk := range []*ticker{{}, {backOff: tickerBackOff}} {
		t.Run(fmt.Sprintf("backOff=%v", tk.backOff), func(t *testing.T) {
			properties.Run(t, tk.Serve, properties.WithProtocol(tickerProtocol()),
				properties.Properties("delivery"), properties.Checks(8))
		})
	}
}

// TestStaleIsCaught is the other half of TestLatestIsFresh: the ticker
// whose slot keeps the oldest pending price fails delivery on a stale
// price. Its Run is a child's, so it runs beside other tests.
func TestStaleIsCaught(t *testing.T) {
	if os.Getenv(tickerEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	tickerFails(t, "stale", "not the newest", "stale state")
}

// tickerFails runs TestTickerChild against the broken ticker child names
// (tickerEnv), and fails t unless the child fails with one of want in its
// output.
func tickerFails(t *testing.T, child string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	out, err := childTest(ctx, "^TestTickerChild$", tickerEnv+"="+child).CombinedOutput()
	if err == nil || !slices.ContainsFunc(want, func(w string) bool { return strings.Contains(string(out), w) }) {
		t.Fatalf("the %s ticker: want the suite to fail with one of %q (failed: %v):\n%s", child, want, err != nil, out)
	}
}

// TestForgottenIsCaught: a ticker that silently stops pushing to a
// subscriber that was slow fails delivery, although its writer still
// sends the newest price it held when the subscriber resumed. That push
// comes after a back-off, once the subscriber has read all that was
// waiting: only a push newer than every earlier one shows that the
// subscriber is still served, or, without versions, a push after the
// subscriber received nothing for a while. Each Run is a child's, so they
// run beside other tests.
func TestForgottenIsCaught(t *testing.T) {
	if os.Getenv(tickerEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	for _, tc := range []struct{ child, want string }{
		{"forget", "then resumed reading: no push newer than version"},
		{"forget-unversioned", "then resumed reading: no push beyond the"},
	} {
		t.Run(tc.child, func(t *testing.T) {
			t.Parallel()
			tickerFails(t, tc.child, tc.want)
		})
	}
}

// TestUnblockedStallIsNamed: a ticker that writes a push every 50 ms at
// most never fills a stalled subscriber's buffers, so delivery cannot see
// what it would do once its writes blocked. It passes, and its verdict
// says that this stall was not checked, instead of a pass that claims it.
func TestUnblockedStallIsNamed(t *testing.T) {
	if os.Getenv(tickerEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	var out strings.Builder
	verdicts, err := properties.CheckAddr(&out, tcpServer(t, (&ticker{pace: 50 * time.Millisecond}).Serve),
		properties.WithProtocol(tickerProtocol()), properties.Properties("delivery"), properties.Checks(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 1 || verdicts[0].Result != report.Pass {
		t.Fatalf("verdicts %+v, want delivery PASS; the log:\n%s", verdicts, out.String())
	}
	if v := verdicts[0]; !strings.Contains(v.Note, "not checked: a stall with the server's writes blocked") {
		t.Errorf("delivery note %q, want it to say the stall with the server's writes blocked was not checked", v.Note)
	}
}

// TestShutdownWithFullBuffers: the leaks property shuts the server down
// while stalled subscribers' buffers are full. A paced ticker (a push every
// 5 ms) that stops connections with a read deadline, not a close, leaves
// a writer blocked on such a buffer, and Serve never returns. It is caught
// only if the buffers did fill: the suite shrinks them to 64 bytes for
// that phase, as 64 KiB took a paced server longer than the phase publishes.
func TestShutdownWithFullBuffers(t *testing.T) {
	if os.Getenv(tickerEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	tickerFails(t, "read-stop", "Serve did not return within")
}
