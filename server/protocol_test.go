package server

import (
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

func TestHello(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{Options: []string{"a", "b-2", "c_3"}}, nil)
		c := e.dial(t)
		if got, want := strings.Join(c.Options(), ","), "a,b-2,c_3"; got != want {
			t.Fatalf("HELLO options %q, want %q", got, want)
		}
		if m := c.lastTally(); m.Seq != 0 {
			t.Fatalf("initial TALLY seq %d, want 0", m.Seq)
		}
	})
}

func TestVoteCountedBeforeOK(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		c := e.dial(t)
		for i := 1; i <= 5; i++ {
			seq := c.vote("green")
			if seq != uint64(i) {
				t.Fatalf("vote %d: OK %d", i, seq)
			}
			// The vote is counted before its OK is sent.
			if st := e.s.Stats(); st.Seq < seq || st.Votes["green"] < uint64(i) {
				t.Fatalf("OK %d sent before the vote was counted: %+v", seq, st)
			}
		}
		m := c.waitTally(5)
		if m.Counts[1] != 5 {
			t.Fatalf("tally %+v, want green=5", m)
		}
	})
}

func TestTallyRequest(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, func(s *Server) { s.testNoBroadcast = true })
		c := e.dial(t)
		c.send("VOTE red\n", "VOTE blue\n", "VOTE red\n", "TALLY\n")
		for i := 1; i <= 3; i++ {
			if m := c.next(); m.Kind != wire.MsgOK || m.Seq != uint64(i) {
				t.Fatalf("reply %d: %+v", i, m)
			}
		}
		m := c.next()
		if m.Kind != wire.MsgTally || m.Seq != 3 || m.Counts[0] != 2 || m.Counts[1] != 0 || m.Counts[2] != 1 {
			t.Fatalf("TALLY reply %+v, want 3 red=2 green=0 blue=1", m)
		}
		// Asked again with nothing new: the same seq, as a reply.
		c.send("TALLY\n")
		if m := c.next(); m.Kind != wire.MsgTally || m.Seq != 3 {
			t.Fatalf("second TALLY reply %+v", m)
		}
	})
}

func TestQuit(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		c := e.dial(t)
		c.send("VOTE red\nQUIT\nVOTE red\n")
		lines := c.expectEOF()
		if len(lines) == 0 || lines[len(lines)-1].Kind != wire.MsgBye {
			t.Fatalf("lines after QUIT %v, want ... BYE then EOF", lines)
		}
		for _, m := range lines[:len(lines)-1] {
			if m.String() != "OK 1" && m.Kind != wire.MsgTally {
				t.Fatalf("unexpected line %v before BYE", m)
			}
		}
	})
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		c := e.dial(t)
		cases := []struct{ line, code string }{
			{"\n", wire.CodeBadRequest},
			{"\r\n", wire.CodeBadRequest},
			{"vote red\n", wire.CodeBadRequest},
			{"VOTE\n", wire.CodeBadRequest},
			{"VOTE \n", wire.CodeBadRequest},
			{"VOTE  red\n", wire.CodeBadRequest},
			{"VOTE Red\n", wire.CodeBadRequest},
			{"VOTE red green\n", wire.CodeBadRequest},
			{"VOTE " + strings.Repeat("a", 33) + "\n", wire.CodeBadRequest},
			{"VOTE purple\n", wire.CodeUnknownOption},
			{"VOTE " + strings.Repeat("z", 32) + "\n", wire.CodeUnknownOption},
			{"TALLY now\n", wire.CodeBadRequest},
			{"QUIT please\n", wire.CodeBadRequest},
			{" TALLY\n", wire.CodeBadRequest},
			{"HELLO\n", wire.CodeBadRequest},
			{"\x00\xff\n", wire.CodeBadRequest},
			{"VOTE red\rVOTE red\n", wire.CodeBadRequest},
			{strings.Repeat("x", wire.MaxLine-1) + "\n", wire.CodeBadRequest}, // exactly the limit: not too long
		}
		for _, tc := range cases {
			c.send(tc.line)
			m := c.reply()
			if m.Kind != wire.MsgErr || m.Code != tc.code {
				t.Errorf("%q: got %+v, want ERR %s", tc.line, m, tc.code)
			}
		}
		// The connection stays open and works.
		if seq := c.vote("red"); seq != 1 {
			t.Fatalf("vote after errors: OK %d, want 1", seq)
		}
		if st := e.s.Stats(); st.Seq != 1 {
			t.Fatalf("stats %+v: bad requests were counted", st)
		}
	})
}

func TestCRLF(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		c := e.dial(t)
		c.send("VOTE blue\r\n")
		if m := c.reply(); m.Kind != wire.MsgOK || m.Seq != 1 {
			t.Fatalf("got %+v", m)
		}
	})
}

func TestLineTooLong(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		for _, tc := range []struct {
			name, data string
		}{
			{"terminated", strings.Repeat("x", wire.MaxLine) + "\n"},
			{"crlf", "VOTE " + strings.Repeat("r", wire.MaxLine-6) + "\r\n"},
			{"unterminated", strings.Repeat("x", wire.MaxLine+100)},
			{"after-a-vote", "VOTE red\n" + strings.Repeat("VOTE red", 40)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := start(t, tr, Config{}, nil)
				c := e.dial(t)
				c.send(tc.data)
				lines := c.expectEOF()
				if last := len(lines) - 1; last < 0 || lines[last].Kind != wire.MsgErr || lines[last].Code != wire.CodeLineTooLong {
					t.Fatalf("got %v, want ... ERR line-too-long, then EOF", lines)
				}
				if got := e.s.Stats().Closed.LineTooLong; got != 1 {
					t.Fatalf("Closed.LineTooLong = %d, want 1", got)
				}
			})
		}
	})
}

func TestPushedTallies(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		watcher := e.dial(t) // never sends TALLY: a repeated TALLY fails it
		voters := make([]*client, 3)
		for i := range voters {
			voters[i] = e.dial(t)
		}
		const perVoter = 200
		done := make(chan error, len(voters))
		for i, v := range voters {
			go func() {
				opt := []string{"red", "green", "blue"}[i]
				v.nc.SetWriteDeadline(time.Now().Add(bound))
				if err := v.Send(strings.Repeat(string(wire.AppendVote(nil, opt)), perVoter)); err != nil {
					done <- err
					return
				}
				for n := 0; n < perVoter; {
					m, err := v.read()
					if err != nil {
						done <- err
						return
					}
					if m.Kind == wire.MsgOK {
						n++
					}
				}
				done <- nil
			}()
		}
		for range voters {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		// The watcher, which only reads, gets the final tally; its seqs never
		// went back or repeated (checked by its wire.Client).
		m := watcher.waitTally(3 * perVoter)
		for i, n := range m.Counts {
			if n != perVoter {
				t.Fatalf("option %d: %d votes, want %d", i, n, perVoter)
			}
		}
	})
}
