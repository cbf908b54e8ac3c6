package mutants

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// The tests in this file prove that every mutant is a working protocol v1
// server apart from its bug: each one runs every mutant except those whose
// Caught lists the property that the test exercises.

func forEach(t *testing.T, skipIfCaughtBy []string, f func(t *testing.T, m Mutant)) {
	for _, m := range All() {
		t.Run(m.Name, func(t *testing.T) {
			if caughtBy(m, skipIfCaughtBy...) {
				t.Skipf("%s is caught by %v", m.Name, m.Caught)
			}
			f(t, m)
		})
	}
}

func TestProtocol(t *testing.T) {
	t.Parallel()
	forEach(t, nil, func(t *testing.T, m Mutant) {
		r := start(t, m)
		c := dial(t, r.addr)
		c.send("VOTE red\n")
		if got := c.expect(wire.MsgOK); got != "OK 1" {
			t.Fatalf("VOTE red: got %q, want OK 1", got)
		}
		c.send("VOTE purple\n")
		if got := c.expect(wire.MsgErr); !strings.HasPrefix(got, "ERR "+wire.CodeUnknownOption) {
			t.Fatalf("VOTE purple: got %q", got)
		}
		c.send("HELLO\r\n")
		if got := c.expect(wire.MsgErr); !strings.HasPrefix(got, "ERR "+wire.CodeBadRequest) {
			t.Fatalf("HELLO: got %q", got)
		}
		c.send("TALLY\r\n")
		if got := c.expect(wire.MsgTally); got != "TALLY 1 red=1 green=0 blue=0" {
			t.Fatalf("TALLY: got %q", got)
		}
		c.send("QUIT\n")
		c.expect(wire.MsgBye)
		c.expectEOF()
	})
}

func TestLineTooLong(t *testing.T) {
	t.Parallel()
	forEach(t, []string{Bounded}, func(t *testing.T, m Mutant) {
		r := start(t, m)
		c := dial(t, r.addr)
		c.send(strings.Repeat("x", wire.MaxLine) + "\n")
		if got := c.expect(wire.MsgErr); !strings.HasPrefix(got, "ERR "+wire.CodeLineTooLong) {
			t.Fatalf("got %q", got)
		}
		// The server reads and drops what follows, for lingerFor (2 s)
		// or until the client is done sending: done, it closes at once.
		if err := c.conn.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		c.expectEOF()
	})
}

// TestConcurrentVotes: several clients pipelining votes at once all get
// unique seqs, and the tally at quiescence is exact.
func TestConcurrentVotes(t *testing.T) {
	t.Parallel()
	forEach(t, []string{Race}, func(t *testing.T, m Mutant) {
		r := start(t, m)
		const clients, votes = 4, 300
		var vs []*voter
		for i := range clients {
			vs = append(vs, vote(t, r.addr, votes, DefaultOptions[i%len(DefaultOptions)]))
		}
		seen := make(map[uint64]bool)
		for i, v := range vs {
			if !v.wait(bound) {
				t.Fatalf("voter %d got %d of %d OKs", i, v.oks.Load(), votes)
			}
			seqs, _ := v.results()
			for _, s := range seqs {
				if seen[s] || s < 1 || s > clients*votes {
					t.Fatalf("voter %d: OK %d duplicated or out of range", i, s)
				}
				seen[s] = true
			}
		}
		want := fmt.Sprintf("TALLY %d red=%d green=%d blue=%d", clients*votes, 2*votes, votes, votes)
		c := dial(t, r.addr)
		c.send("TALLY\n")
		// Skip tallies pushed for earlier votes, still on their way.
		for {
			got := c.expect(wire.MsgTally)
			msg, err := wire.ParseMsg(got, DefaultOptions)
			if err == nil && msg.Seq < clients*votes {
				continue
			}
			if got != want {
				t.Fatalf("TALLY at quiescence: got %q, want %q", got, want)
			}
			break
		}
	})
}

// TestHalfClose: votes sent just before a half-close are all answered, then
// the latest tally, then the server closes.
func TestHalfClose(t *testing.T) {
	t.Parallel()
	forEach(t, []string{HalfClose}, func(t *testing.T, m Mutant) {
		r := start(t, m)
		c := dial(t, r.addr)
		const n = 50
		c.send(strings.Repeat("VOTE blue\n", n))
		if err := c.conn.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		var oks int
		var last string
		for {
			line, err := c.lineWithin(bound)
			if err != nil {
				if isTimeout(err) {
					t.Fatal("the server neither answered nor closed")
				}
				break
			}
			switch {
			case strings.HasPrefix(line, "OK "):
				oks++
			case strings.HasPrefix(line, "TALLY "):
				last = line
			default:
				t.Fatalf("unexpected line %q", line)
			}
		}
		if want := fmt.Sprintf("TALLY %d red=0 green=0 blue=%d", n, n); oks != n || last != want {
			t.Fatalf("got %d OKs and last tally %q, want %d and %q", oks, last, n, want)
		}
	})
}

func TestTemporaryAcceptErrors(t *testing.T) {
	t.Parallel()
	forEach(t, nil, func(t *testing.T, m Mutant) {
		if m.Name == "accept-quit" {
			t.Skip("its bug: TestAcceptQuitStops")
		}
		r := start(t, m, failAccepts(3))
		c := dial(t, r.addr)
		c.send("VOTE green\n")
		if got := c.expect(wire.MsgOK); got != "OK 1" {
			t.Fatalf("got %q", got)
		}
	})
}

// TestStalledPeer: with one client that never reads, another client's votes
// are all answered and a third one's vote too, and the stalled client costs
// the server O(1) memory.
func TestStalledPeer(t *testing.T) {
	t.Parallel()
	forEach(t, []string{Progress, Race}, func(t *testing.T, m Mutant) {
		r := start(t, m, smallBuffers)
		stall(t, r.addr)
		const n = 5000
		if v := vote(t, r.addr, n, "red"); !v.wait(bound) {
			t.Fatalf("a voter got %d of %d OKs", v.oks.Load(), n)
		}
		c := dial(t, r.addr)
		c.send("VOTE green\n")
		if got := c.expect(wire.MsgOK); got != fmt.Sprintf("OK %d", n+1) {
			t.Fatalf("got %q", got)
		}
		if caughtBy(m, Bounded) {
			return
		}
		for _, cl := range r.s.clientList() {
			if q, ok := queued(cl.sink); ok && q > replyCap+wire.MaxLine {
				t.Errorf("%d bytes queued for one client", q)
			}
		}
	})
}

// TestShutdownWithStalledClient: cancelling the context stops the server
// promptly even while a write to a stalled client blocks.
func TestShutdownWithStalledClient(t *testing.T) {
	t.Parallel()
	forEach(t, []string{Race}, func(t *testing.T, m Mutant) {
		r := start(t, m, smallBuffers)
		stall(t, r.addr)
		vote(t, r.addr, 5000, "blue").wait(500 * time.Millisecond) // enough to stall (or freeze)
		if err := r.stop(t); err != nil {
			t.Fatalf("Serve: %v", err)
		}
	})
}
