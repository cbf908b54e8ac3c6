package report_test

import (
	"fmt"
	"time"

	"github.com/stallproof/stallproof/properties/report"
)

// freeze is a hand-built report of the lock-across-write freeze: four
// clients vote and receive tallies; c3 stops reading at 300 ms; at 350 ms
// its buffer is full and the server's Write to it blocks while holding the
// lock, so replies stop for everyone; c0's vote sent at 350 ms is still
// unanswered when the bound of 2 s runs out, at 2350 ms. c1 sent a burst
// of 6 votes at 40 ms, answered within 10 ms.
func freeze() *report.Report {
	msec := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	r := &report.Report{
		Property:  "progress",
		Violation: "c0 healthy · voter got no reply to VOTE yes within 2s (sent at 350 ms); server goroutines: 1 in faultnet.(*Conn).Write, 3 in sync.(*Mutex).Lock",
		Protocol:  "stallproof v1",
		Transport: "InMemory",
		Seed:      8213418841,
		Replay: "STALLPROOF_MUTANT=lock_across_write go test ./properties/ -run '^TestMutantChild$/^progress$' " +
			"-rapid.failfile=testdata/rapid/TestMutantChild_progress/TestMutantChild_progress-20261129133000-4242.fail",
		Bound:          2 * time.Second,
		FirstViolation: msec(4120),
		ViolationAt:    msec(2350),
		Goroutines:     "1 goroutine in faultnet.(*Conn).Write\n3 goroutines in sync.(*Mutex).Lock\n",
		Stacks: []report.Stack{
			{Count: 3, State: "sync.Mutex.Lock", Frames: []report.Frame{{Func: "sync.(*Mutex).Lock", File: "mutex.go", Line: 90}, {Func: "main.(*srv).vote", File: "srv.go", Line: 41}}},
			{Count: 1, State: "sync.Cond.Wait", Frames: []report.Frame{
				{Func: "github.com/stallproof/stallproof/faultnet.(*Conn).Write", File: "conn.go", Line: 103},
				{Func: "..."}, {Func: "bufio.(*Writer).Flush", File: "bufio.go", Line: 639}, {Func: "main.(*srv).broadcast", File: "srv.go", Line: 88},
			}},
		},
	}
	r.Clients = []report.Client{
		{ID: 0, Kind: "healthy", Role: "voter"},
		{ID: 1, Kind: "healthy", Role: "voter"},
		{ID: 2, Kind: "healthy", Role: "subscriber"},
		{ID: 3, Kind: "stalled", Role: "subscriber"},
	}
	step := func(at float64, text string) { r.Steps = append(r.Steps, report.Step{At: msec(at), Text: text}) }
	step(2, "connect c0 healthy")
	step(4, "connect c1 healthy")
	step(6, "connect c2 healthy")
	step(8, "connect c3 subscriber")
	step(40, "vote ×6 c0, c1")
	step(300, "stall c3")
	step(340, "vote c1")
	step(350, "vote c0")
	// Votes every 50 ms from c0 and c1, alternately 25 ms apart; each is
	// answered 1 ms later and pushes a tally to everyone 2 ms later, until
	// the server freezes at 350 ms.
	seq := 0
	r.Clients[1].Marks = append(r.Clients[1].Marks, report.Mark{At: msec(40), Kind: report.MarkRequest, Text: "6 requests at once: VOTE yes", Count: 6})
	for i := range 6 {
		seq++
		r.Clients[1].Marks = append(r.Clients[1].Marks, report.Mark{At: msec(41 + float64(i)), Kind: report.MarkReply, Text: fmt.Sprintf("OK %d", seq)})
	}
	for at := 50.0; at <= 350; at += 25 {
		voter := &r.Clients[int(at/25)%2]
		voter.Marks = append(voter.Marks, report.Mark{At: msec(at), Kind: report.MarkRequest, Text: "VOTE yes"})
		voter.Wrote += 9
		if at >= 340 {
			continue // the server is stuck in Write to c3, holding the lock
		}
		seq++
		voter.Marks = append(voter.Marks, report.Mark{At: msec(at + 1), Kind: report.MarkReply, Text: fmt.Sprintf("OK %d", seq)})
		voter.Read += 6
		for i := range r.Clients {
			if i == 3 && at >= 300 {
				continue // c3 reads nothing more
			}
			c := &r.Clients[i]
			c.Marks = append(c.Marks, report.Mark{At: msec(at + 2), Kind: report.MarkPush, Text: fmt.Sprintf("TALLY %d yes=%d no=0", seq, seq)})
			c.Read += 20
		}
	}
	for i := range r.Clients {
		c := &r.Clients[i]
		c.Read += 24 // HELLO
		c.Last = []string{"HELLO yes no", fmt.Sprintf("TALLY %d yes=%d no=0", seq, seq)}
	}
	c3 := &r.Clients[3]
	c3.Spans = []report.Span{{From: msec(300), To: report.Unlifted, Kind: "stall", Text: "StallReads()"}}
	c3.Events = []report.Event{
		{At: msec(300), Kind: "inject", Text: "StallReads()"},
		{At: msec(350), Kind: report.EventBufferFull, Text: "the server's Write to c3 blocked at byte 8192"},
		{At: msec(352), Kind: report.EventServerBlocked, Text: "8192 bytes queued, window 0"},
	}
	return r
}
