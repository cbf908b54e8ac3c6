package properties

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties/report"
)

func TestRunPatternAnchorsEachLevel(t *testing.T) {
	for name, want := range map[string]string{
		"TestBroken/progress":   `^TestBroken$/^progress$`,
		"TestBroken":            `^TestBroken$`,
		"TestX(1)/a+b/progress": `^TestX\(1\)$/^a\+b$/^progress$`,
	} {
		if got := runPattern(name); got != want {
			t.Errorf("runPattern(%q) = %q, want %q", name, got, want)
		}
	}
}

// rapid tells the seed of a failure, and that it could not reproduce one,
// only in the text of its Errorf.
func TestRapidTBKeepsWhatRapidSaid(t *testing.T) {
	rt := &rapidTB{suiteT: &cliT{name: "T", out: io.Discard}}
	rt.Errorf("[rapid] failed after 3 tests: %s\nTo reproduce, specify -run=%q %v\nFailed test output:", "progress violated", "T",
		`-rapid.failfile="testdata/rapid/T/T-1.fail" (or -rapid.seed=18081151605622948036)`)
	if got := rt.said(); got.seed != 18081151605622948036 || got.flaky {
		t.Errorf("after a failure: %+v", got)
	}
	rt = &rapidTB{suiteT: &cliT{name: "T", out: io.Discard}}
	rt.Errorf("[rapid] flaky test, can not reproduce a failure\nTo try to reproduce, specify -run=%q %v", "T", "-rapid.seed=42")
	if got := rt.said(); got.seed != 42 || !got.flaky {
		t.Errorf("after a flaky failure: %+v", got)
	}
	if !rt.Failed() {
		t.Error("the Errorf did not reach the test")
	}
}

// The verdict line, the report files and the text all show the shrunk
// check, with rapid's seed; a failure rapid could not reproduce shows the
// first check's full report.
func TestVerdictShowsTheShrunkCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := newConfig([]Option{ReportDir(dir)})
	first := failure{prop: "progress", msg: "c6 (healthy): request not answered", report: "FIRST REPORT",
		data: &report.Report{Property: "progress", Violation: "c6 (healthy): request not answered"}}
	shrunk := failure{prop: "progress", msg: "c1 (healthy): request not answered", report: "SHRUNK REPORT",
		data: &report.Report{Property: "progress", Violation: "c1 (healthy): request not answered"}}
	cfg.noteFailure("progress", first)
	cfg.noteFailure("progress", shrunk)
	cfg.run.frozen = first.msg + " (seen while checking progress)"

	verdict := func(rs rapidSaid) (report.Verdict, string, report.Report) {
		t.Helper()
		ct := &cliT{name: "TestBroken/progress", out: io.Discard}
		ct.Fail()
		cfg.verdict(ct, "progress", rs)
		if len(ct.verdicts) != 1 {
			t.Fatalf("%d verdicts", len(ct.verdicts))
		}
		var rep report.Report
		data, err := os.ReadFile(filepath.Join(report.DirFor(dir, ct.name), report.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		return ct.verdicts[0], ct.log.String(), rep
	}

	v, log, rep := verdict(rapidSaid{seed: 7})
	if v.Violation != shrunk.msg || v.Seed != 7 || rep.Violation != shrunk.msg || rep.Seed != 7 {
		t.Errorf("verdict %+v, report.json violation %q seed %d: want the shrunk check's, seed 7", v, rep.Violation, rep.Seed)
	}
	if cfg.frozen() != shrunk.msg+" (seen while checking progress)" {
		t.Errorf("the later properties' cause %q is not the shrunk check's", cfg.frozen())
	}
	if rep.Replay != "go test -run '^TestBroken$/^progress$'" {
		t.Errorf("replay %q", rep.Replay)
	}
	if !strings.Contains(log, "the first failed check") || !strings.Contains(log, first.msg) || strings.Contains(log, "FIRST REPORT") {
		t.Errorf("log:\n%s", log)
	}

	v, log, rep = verdict(rapidSaid{seed: 7, flaky: true})
	if v.Violation != first.msg || rep.Violation != first.msg {
		t.Errorf("flaky: verdict %q, report.json %q; want the first check's", v.Violation, rep.Violation)
	}
	if !strings.Contains(log, "rapid could not reproduce the failure") || !strings.Contains(log, "FIRST REPORT") {
		t.Errorf("flaky: the first check's report is not printed:\n%s", log)
	}
}

func TestInMemoryConnectionsNamed(t *testing.T) {
	msg := "c2 (healthy): write tcp 127.0.0.1:20001->127.0.0.1:20002: i/o timeout"
	mem := &env{cfg: &config{transport: InMemory}}
	if got := mem.inMemoryNames(msg); got != "c2 (healthy): write in-memory connection: i/o timeout" {
		t.Errorf("in memory: %q", got)
	}
	tcp := &env{cfg: &config{transport: LoopbackTCP}}
	if got := tcp.inMemoryNames(msg); got != msg {
		t.Errorf("over TCP: %q", got)
	}
}

// Past maxMarks a client still records what happens, counted: the
// timeline shows the requests and pushes of a long check to its end, and
// every request still pairs with its answer.
func TestMarksPastTheCapAreCounted(t *testing.T) {
	c := &client{env: &env{start: time.Now()}}
	const n = 3 * maxMarks
	for range n {
		c.mark("request", []byte("VOTE red"))
		c.mark("reply", []byte("OK"))
		c.mark("push", []byte("TALLY"))
	}
	if len(c.marks) > 4*maxMarks {
		t.Fatalf("%d marks kept, more than %d", len(c.marks), 4*maxMarks)
	}
	count := map[string]int{}
	for _, m := range c.marks {
		count[m.kind] += max(m.count, 1)
	}
	if count["request"] != n || count["reply"] != n || count["push"] != n {
		t.Errorf("counted %v, want %d of each", count, n)
	}
}

func TestWriteEventsSummarisesRepeats(t *testing.T) {
	var evs []faultnet.Event
	for i := range 500 {
		evs = append(evs, faultnet.Event{Conn: "c1", Kind: faultnet.EventBufferFull, Byte: int64(i)})
	}
	evs = append(evs, faultnet.Event{Conn: "c1", Kind: faultnet.EventReset, Byte: -1})
	var b strings.Builder
	writeEvents(&b, evs)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != eventsShown+2 {
		t.Fatalf("%d lines for 500 buffer-full events and a reset, want %d:\n%s", len(lines), eventsShown+2, b.String())
	}
	if !strings.Contains(lines[eventsShown], "497 more buffer-full events") || !strings.Contains(lines[eventsShown], "at byte 499") {
		t.Errorf("the summary line %q should count the 497 others and show the last", lines[eventsShown])
	}
}
