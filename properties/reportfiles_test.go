package properties_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/properties/report"
)

// TestReportFiles runs the suite against lock-across-write with
// STALLPROOF_REPORT_DIR set, in a child process, and checks the files the
// failure leaves: report.json parses and names the violation, timeline.svg
// parses as XML with a lane per client and the violation's line, and the
// copy of the fail file replays the same violation.
func TestReportFiles(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel() // a child process: it overlaps the other parallel tests
	dir := t.TempDir()
	run := func(extra ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
		defer cancel()
		args := append([]string{"-test.run=^TestMutantChild$", "-test.v"}, extra...)
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(os.Environ(), mutantEnv+"=lock-across-write", mutantEnv+"_PROPS=progress", "STALLPROOF_REPORT_DIR="+dir)
		cmd.Dir = t.TempDir() // rapid writes its fail file under the working directory
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("the suite passed lock-across-write:\n%s", out)
		}
		return out
	}
	out := run("-rapid.shrinktime=3s")
	rdir := report.DirFor(dir, "TestMutantChild/progress")

	var rep report.Report
	js, err := os.ReadFile(filepath.Join(rdir, report.JSONFile))
	if err != nil {
		t.Fatalf("no report.json: %v\n%s", err, out)
	}
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatalf("report.json does not parse: %v", err)
	}
	if rep.Version != report.Version || rep.Property != "progress" || !strings.Contains(rep.Violation, "not answered") {
		t.Errorf("report.json: version %d, property %q, violation %q", rep.Version, rep.Property, rep.Violation)
	}
	if len(rep.Clients) == 0 || rep.Protocol != "stallproof v1" || rep.Transport != "InMemory" || rep.Goroutines == "" {
		t.Errorf("report.json: %d clients, protocol %q, transport %q, goroutines %q", len(rep.Clients), rep.Protocol, rep.Transport, rep.Goroutines)
	}
	marks := 0
	for _, c := range rep.Clients {
		marks += len(c.Marks)
	}
	if marks == 0 {
		t.Error("report.json: no client has a mark")
	}

	// Everything from the shrunk check: the verdict line names its
	// violation, with rapid's seed, as report.json does; the text's step
	// count is report.json's.
	if rep.Seed == 0 || !bytes.Contains(out, []byte(fmt.Sprintf("seed=%d ", rep.Seed))) {
		t.Errorf("report.json's seed %d is not the verdict line's:\n%s", rep.Seed, tail(out))
	}
	if want := fmt.Sprintf("violation=%q", rep.Violation); !bytes.Contains(out, []byte(want)) {
		t.Errorf("the verdict line does not name report.json's violation %q:\n%s", rep.Violation, tail(out))
	}
	if want := fmt.Sprintf("scenario of %d steps", len(rep.Steps)); !bytes.Contains(out, []byte(want)) {
		t.Errorf("the text does not say %q (report.json has %d steps)", want, len(rep.Steps))
	}
	if !strings.Contains(rep.Replay, "-run '^TestMutantChild$/^progress$'") {
		t.Errorf("replay %q: not anchored per level", rep.Replay)
	}
	// Stacks with file:line, reaching the mutant's own frame.
	own := false
	for _, st := range rep.Stacks {
		for _, f := range st.Frames {
			own = own || strings.Contains(f.Func, "/properties/mutants.") && f.File != "" && f.Line > 0
		}
	}
	if !own {
		t.Errorf("report.json's stacks have no frame of the mutant with its file:line: %+v", rep.Stacks)
	}

	svg, err := os.ReadFile(filepath.Join(rdir, report.TimelineFile))
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	lanes, violations, unanswered, full := 0, 0, 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("timeline.svg does not parse as XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "class" && a.Value == "lane" {
					lanes++
				}
				if a.Name.Local == "class" && a.Value == "violation" {
					violations++
				}
				if a.Name.Local == "class" && a.Value == "unanswered" {
					unanswered++
				}
				if a.Name.Local == "class" && a.Value == report.EventBufferFull {
					full++
				}
			}
		}
	}
	if lanes != len(rep.Clients) || violations != 1 {
		t.Errorf("timeline.svg: %d lanes for %d clients, %d violation lines", lanes, len(rep.Clients), violations)
	}
	// The freeze's story: a request never answered, behind a full buffer.
	if unanswered == 0 || full == 0 {
		t.Errorf("timeline.svg: %d unanswered requests, %d buffer-full marks; want both", unanswered, full)
	}

	fails, _ := filepath.Glob(filepath.Join(rdir, "*.fail"))
	if len(fails) != 1 {
		t.Fatalf("want one copy of the fail file in %s, found %v", rdir, fails)
	}
	replay := run("-rapid.failfile=" + fails[0])
	if !bytes.Contains(replay, []byte("request … not answered")) {
		t.Errorf("the fail file's copy did not replay the violation:\n%s", replay)
	}
}
