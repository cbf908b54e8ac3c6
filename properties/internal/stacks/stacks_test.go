package stacks

import (
	"context"
	"maps"
	"os"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties/report"
)

// A server of module example.com/broker whose Publish calls a library of
// another module (a websocket package), which blocks in faultnet's Write.
const brokerDump = `goroutine 1 [running]:
main.main()
	/src/main.go:3 +0x1

goroutine 41 [sync.Cond.Wait]:
sync.runtime_notifyListWait(0xc000, 0x2)
	/go/src/runtime/sema.go:597 +0x159
sync.(*Cond).Wait(0xc000)
	/go/src/sync/cond.go:71 +0x85
github.com/stallproof/stallproof/faultnet.(*Conn).Write(0xc000, {0xc000, 0x10, 0x10})
	/src/faultnet/conn.go:103 +0x25
bufio.(*Writer).Flush(0xc000)
	/go/src/bufio/bufio.go:639 +0x55
github.com/gorilla/websocket.(*Conn).flushFrame(0xc000, 0x1, {0x0, 0x0, 0x0})
	/mod/github.com/gorilla/websocket/conn.go:618 +0x1d
github.com/gorilla/websocket.(*messageWriter).Close(0xc000)
	/mod/github.com/gorilla/websocket/conn.go:733 +0x3a
github.com/gorilla/websocket.(*Conn).WriteMessage(0xc000, 0x1, {0xc000, 0x10, 0x10})
	/mod/github.com/gorilla/websocket/conn.go:781 +0x1aa
example.com/broker.(*Broker).Publish(0xc000, {0xc000, 0x10})
	/src/broker/broker.go:88 +0x99
example.com/broker.(*client).serve(0xc000)
	/src/broker/client.go:40 +0x1f
created by example.com/broker.(*Broker).Serve in goroutine 7
	/src/broker/broker.go:51 +0x2a5

goroutine 42 [sync.Mutex.Lock]:
sync.(*Mutex).Lock(0xc000)
	/go/src/sync/mutex.go:90 +0x1
example.com/broker.(*Broker).Publish(0xc000, {0xc000, 0x10})
	/src/broker/broker.go:80 +0x99
created by example.com/broker.(*Broker).Serve in goroutine 7
	/src/broker/broker.go:51 +0x2a5

goroutine 43 [sync.Mutex.Lock]:
sync.(*Mutex).Lock(0xc000)
	/go/src/sync/mutex.go:90 +0x1
example.com/broker.(*Broker).Publish(0xc000, {0xc000, 0x10})
	/src/broker/broker.go:80 +0x99
created by example.com/broker.(*Broker).Serve in goroutine 7
	/src/broker/broker.go:51 +0x2a5
`

// The summary keeps, beyond the five innermost frames, the server's own
// frame (not the library's, although the library is a module too) and
// the library call it made, each with its file:line; and groups alike
// goroutines, the largest group first.
func TestServerStacksKeepTheServersOwnFrame(t *testing.T) {
	gs := parseStacks(brokerDump)
	groups, text := groupStacks(gs, map[string]bool{"1": true}, Owner{}, "example.com/broker")
	if len(groups) != 2 || groups[0].Count != 2 || groups[1].Count != 1 {
		t.Fatalf("groups %+v, want 2 goroutines in Lock then 1 in Write", groups)
	}
	if got := groups[0].Frames[1].String(); got != "example.com/broker.(*Broker).Publish (broker.go:80)" {
		t.Errorf("lock group's frame 1: %q", got)
	}
	var fs []string
	for _, f := range groups[1].Frames {
		fs = append(fs, f.String())
	}
	want := []string{
		"sync.(*Cond).Wait (cond.go:71)",
		"github.com/stallproof/stallproof/faultnet.(*Conn).Write (conn.go:103)",
		"bufio.(*Writer).Flush (bufio.go:639)",
		"github.com/gorilla/websocket.(*Conn).flushFrame (conn.go:618)",
		"github.com/gorilla/websocket.(*messageWriter).Close (conn.go:733)",
		"github.com/gorilla/websocket.(*Conn).WriteMessage (conn.go:781)",
		"example.com/broker.(*Broker).Publish (broker.go:88)",
	}
	if strings.Join(fs, "\n") != strings.Join(want, "\n") {
		t.Errorf("write group's frames:\n%s\nwant\n%s", strings.Join(fs, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(text, "  2 × [sync.Mutex.Lock] sync.(*Mutex).Lock (mutex.go:90) ← example.com/broker.(*Broker).Publish (broker.go:80)") {
		t.Errorf("text:\n%s", text)
	}
	// Without knowing the server's module, the innermost frame of any
	// module but faultnet's counts as the server's: here the library's,
	// among the first five.
	groups, _ = groupStacks(gs, map[string]bool{"1": true}, Owner{}, "")
	if last := groups[1].Frames; len(last) != 5 || last[4].Func != "github.com/gorilla/websocket.(*messageWriter).Close" {
		t.Errorf("without a module: %v", last)
	}
	// A server frame deeper still is reached past "...".
	deep := append(gs[1].frames[:6:6], report.Frame{Func: "io.WriteString"}, report.Frame{Func: "fmt.Fprintf"})
	deep = append(deep, gs[1].frames[6:]...)
	fs = nil
	for _, f := range trimFrames(deep, "example.com/broker") {
		fs = append(fs, f.Func)
	}
	if got := strings.Join(fs[5:], " ← "); got != "... ← github.com/gorilla/websocket.(*Conn).WriteMessage ← example.com/broker.(*Broker).Publish" {
		t.Errorf("deep: %s", got)
	}
}

func TestTrimFramesLeavesShortStacksAlone(t *testing.T) {
	gs := parseStacks("goroutine 9 [chan receive]:\nmain.(*srv).vote(...)\n\t/src/srv.go:41 +0x1\nmain.(*srv).serve()\n\t/src/srv.go:30 +0x1\n")
	groups, text := groupStacks(gs, nil, Owner{}, "example.com/other")
	if len(groups) != 1 || len(groups[0].Frames) != 2 || text != "    1 × [chan receive] main.(*srv).vote (srv.go:41) ← main.(*srv).serve (srv.go:30)\n" {
		t.Errorf("groups %+v, text %q", groups, text)
	}
}

func TestParseHeader(t *testing.T) {
	for _, c := range []struct {
		header, id, state string
		bubble            int64
		labels            map[string]string
	}{
		{"goroutine 7 [sync.Mutex.Lock, synctest bubble 3]:", "7", "sync.Mutex.Lock", 3, nil},
		{"goroutine 12 [sync.Cond.Wait (durable), 2 minutes, synctest bubble 41]:", "12", "sync.Cond.Wait (durable)", 41, nil},
		{"goroutine 1 [running]:", "1", "running", 0, nil},
		{"goroutine 9 [chan receive, locked to thread]:", "9", "chan receive", 0, nil},
		{`goroutine 19 [sleep labels:{"stallproof-server": "delivery#4"}]:`, "19", "sleep", 0, map[string]string{"stallproof-server": "delivery#4"}},
		{`goroutine 20 [select (durable), 3 minutes, synctest bubble 2 labels:{"a, b": "x\"}", "k": "v"}]:`, "20", "select (durable)", 2, map[string]string{"a, b": `x"}`, "k": "v"}},
	} {
		g, ok := parseHeader(c.header)
		if !ok || g.id != c.id || g.state != c.state || g.bubble != c.bubble || !maps.Equal(g.labels, c.labels) {
			t.Errorf("parseHeader(%q) = %q, %q, %d, %v, %v; want %q, %q, %d, %v", c.header, g.id, g.state, g.bubble, g.labels, ok, c.id, c.state, c.bubble, c.labels)
		}
	}
	if _, ok := parseHeader("not a header"); ok {
		t.Error("parseHeader took a line that is not a header")
	}
}

func TestOwnBubbleOutsideAny(t *testing.T) {
	if id := OwnBubble(); id != 0 {
		t.Errorf("OwnBubble() = %d outside any bubble, want 0", id)
	}
}

// Since keeps the goroutines of the server labelled so, and those with no
// label that a timer, that server or an ended goroutine started; it leaves
// out the harness's clients and the other servers' goroutines, those of
// the baseline, and those that a goroutine of the baseline or a client
// started, however indirectly.
func TestSinceKeepsOneServersGoroutines(t *testing.T) {
	dump := `goroutine 20 [running]:
github.com/stallproof/stallproof/properties.findLeaks()
	/src/prop_leaks.go:1 +0x1
created by testing.(*T).Run in goroutine 21
	/usr/local/go/src/testing/testing.go:1997 +0x465

goroutine 1 [running]:
example.com/srv.old()
	/src/srv.go:1 +0x1
testing.tRunner(0xc000003, 0x1)
	/usr/local/go/src/testing/testing.go:1934 +0xea
main.main()
	_testmain.go:45 +0x1

goroutine 2 [select labels:{"stallproof-server": "leaks#3"}]:
example.com/srv.(*Server).serve()
	/src/srv.go:10 +0x1

goroutine 3 [select labels:{"stallproof-server": "delivery#4"}]:
example.com/srv.(*Server).serve()
	/src/srv.go:10 +0x1

goroutine 4 [chan receive labels:{"stallproof-client": "leaks"}]:
example.com/lib.(*Client).reader()
	/src/lib.go:5 +0x1

goroutine 5 [sleep]:
example.com/srv.tick()
	/src/srv.go:20 +0x1
created by time.goFunc
	/usr/local/go/src/time/sleep.go:215 +0x2d

goroutine 6 [chan receive]:
example.com/other.serve()
	/src/other.go:3 +0x1
created by example.com/other.TestOther in goroutine 11
	/src/other_test.go:9 +0x1

goroutine 7 [chan receive]:
example.com/srv.unlabelled()
	/src/srv.go:30 +0x1
created by example.com/srv.(*Server).serve in goroutine 2
	/src/srv.go:11 +0x1

goroutine 8 [chan receive]:
example.com/lib.unlabelled()
	/src/lib.go:9 +0x1
created by example.com/lib.(*Client).reader in goroutine 4
	/src/lib.go:6 +0x1

goroutine 9 [chan receive]:
example.com/srv.orphan()
	/src/srv.go:40 +0x1
created by example.com/srv.gone in goroutine 99
	/src/srv.go:41 +0x1

goroutine 10 [chan receive]:
example.com/other.copy()
	/src/other.go:7 +0x1
created by example.com/other.serve in goroutine 6
	/src/other.go:4 +0x1

goroutine 11 [chan receive]:
example.com/other.TestOther(0xc000001)
	/src/other_test.go:10 +0x1
testing.tRunner(0xc000001, 0x1)
	/usr/local/go/src/testing/testing.go:1934 +0xea
created by testing.(*T).Run in goroutine 19
	/usr/local/go/src/testing/testing.go:1997 +0x465

goroutine 12 [chan receive]:
example.com/srv.dispatch()
	/src/srv.go:50 +0x1
created by example.com/srv.init.0 in goroutine 1
	/src/srv.go:51 +0x1

goroutine 13 [chan receive]:
example.com/srv.(*Hub).run()
	/src/hub.go:5 +0x1
created by example.com/srv.NewHub in goroutine 21
	/src/hub.go:6 +0x1

goroutine 14 [chan send]:
example.com/srv.job()
	/src/srv.go:52 +0x1
created by example.com/srv.dispatch in goroutine 12
	/src/srv.go:53 +0x1

goroutine 15 [chan send]:
example.com/srv.(*Hub).push()
	/src/hub.go:7 +0x1
created by example.com/srv.(*Hub).run in goroutine 13
	/src/hub.go:8 +0x1

goroutine 16 [IO wait]:
example.com/srv_test.(*fixture).accept()
	/src/fixture_test.go:5 +0x1
created by example.com/srv_test.TestMain in goroutine 1
	/src/main_test.go:6 +0x1

goroutine 17 [chan receive]:
example.com/srv_test.(*fixture).handle()
	/src/fixture_test.go:7 +0x1
created by example.com/srv_test.(*fixture).accept in goroutine 16
	/src/fixture_test.go:8 +0x1

goroutine 18 [chan send labels:{"stallproof-server": "progress#1"}]:
example.com/srv.(*Hub).push()
	/src/hub.go:7 +0x1
created by example.com/srv.(*Hub).run in goroutine 22
	/src/hub.go:8 +0x1

goroutine 22 [chan receive]:
example.com/srv.orphan2()
	/src/srv.go:60 +0x1
created by example.com/srv.(*Hub).gone in goroutine 23
	/src/hub.go:9 +0x1

goroutine 21 [chan receive]:
testing.(*T).Run(0xc000002)
	/usr/local/go/src/testing/testing.go:2005 +0x1
example.com/srv.TestServe(0xc000002)
	/src/srv_test.go:9 +0x1
testing.tRunner(0xc000002, 0x1)
	/usr/local/go/src/testing/testing.go:1934 +0xea
created by testing.(*T).Run in goroutine 19
	/usr/local/go/src/testing/testing.go:1997 +0x465
`
	gs := parseStacks(dump)
	ids := func(baseline map[string]bool, owner Owner) string {
		server := mayBeServer(gs, baseline, owner)
		var got []string
		for _, g := range gs {
			if doubt, ok := server[g.id]; ok {
				if doubt != Sure {
					got = append(got, g.id+"("+string(doubt)+")")
				} else {
					got = append(got, g.id)
				}
			}
		}
		return strings.Join(got, " ")
	}
	// The caller, 20, runs a check of the test in 21. 2 is labelled as
	// leaks#3's; 5 was started by a timer, 7 by 2, 9 by a goroutine that
	// has ended, 14 by a dispatcher that an init function started, 15 by
	// a hub that the test started before the check, 18 by a hub that
	// progress#1's Serve call started, which has returned, 17 by a
	// fixture that TestMain started (it cannot be told from an init
	// function's hub): they may be leaks#3's server's. 6 and 10 descend
	// from another test's goroutine, 11; 8 from a client's; 3 is a live
	// server's. 22's starter was in the baseline but has ended: counted.
	// 9, 14, 17 and 22 carry their doubt.
	baseline := map[string]bool{"1": true, "11": true, "12": true, "13": true, "16": true, "20": true, "21": true, "23": true}
	live := func(l string) bool { return l != "progress#1" }
	if got := ids(baseline, Owner{Label: "leaks#3", Test: "21", Live: live}); got != "2 5 7 9(ended) 14(main) 15 17(main) 18 22(ended)" {
		t.Errorf("the goroutines of leaks#3: %v, want 2 5 7 9(ended) 14(main) 15 17(main) 18 22(ended)", got)
	}
	if got := ids(nil, Owner{}); got != "1 2 3 4 5 6 7 8 9 10 12 13 14 15 16 17 18 22" {
		t.Errorf("with labels unknown: %v, want every one but the tests'", got)
	}
	if got := ids(baseline, Owner{Label: AnyServer, Test: "21"}); got != "2 3 5 7 9(ended) 14(main) 15 17(main) 18 22(ended)" {
		t.Errorf("any server's: %v, want 2 3 5 7 9(ended) 14(main) 15 17(main) 18 22(ended)", got)
	}
	if got := ids(baseline, Owner{Label: "leaks#3"}); got != "2 5 7 9(ended) 14(main) 17(main) 22(ended)" {
		t.Errorf("with the test unknown, every label live: %v, want 2 5 7 9(ended) 14(main) 17(main) 22(ended)", got)
	}
	if gs[7].parent != "2" || gs[7].starter != "example.com/srv.(*Server).serve" || gs[5].parent != "" || gs[5].starter != "time.goFunc" {
		t.Errorf("starters: 7 by %q in %q, 5 by %q in %q", gs[7].starter, gs[7].parent, gs[5].starter, gs[5].parent)
	}
	if !strings.HasPrefix(gs[2].text, "goroutine 2 [select") || !strings.HasSuffix(gs[2].text, "srv.go:10 +0x1") {
		t.Errorf("text of goroutine 2: %q", gs[2].text)
	}
}

// Under ShowLabels, a live dump says whose a goroutine is; after restore,
// GODEBUG is as it was.
func TestShowLabelsInALiveDump(t *testing.T) {
	t.Setenv("GODEBUG", "")
	restore, shown := ShowLabels()
	if !shown {
		restore()
		t.Skip("goroutine dumps show no labels before Go 1.26")
	}
	before := IDs()
	stop := make(chan struct{})
	started := make(chan struct{})
	pprof.Do(context.Background(), pprof.Labels(harness.ServerLabel, "mine#1"), func(context.Context) {
		go func() {
			close(started)
			<-stop
		}()
	})
	<-started
	gs := Since(before, Owner{Label: "mine#1"})
	close(stop)
	restore()
	if len(gs) != 1 || !strings.Contains(gs[0].Text, `labels:{"stallproof-server": "mine#1"}`) {
		t.Errorf("Since: %+v, want the one labelled goroutine", gs)
	}
	if v := os.Getenv("GODEBUG"); v != "" {
		t.Errorf("GODEBUG after restore: %q, want it as it was", v)
	}
	t.Setenv("GODEBUG", "tracebacklabels=0")
	restore, shown = ShowLabels()
	restore()
	if v := os.Getenv("GODEBUG"); v != "tracebacklabels=0" || shown {
		t.Errorf("GODEBUG that set tracebacklabels=0: %q, labels shown %v; want it kept, and no labels", v, shown)
	}
}
