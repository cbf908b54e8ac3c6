package summary_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/cmd/stallproof/internal/summary"
	"github.com/stallproof/stallproof/properties/report"
)

// goTestJSON runs go test -json on a throwaway module whose tests print
// the given verdicts and fail as told, and returns its output: real
// test2json framing, t.Log's indentation and long-line splitting included.
func goTestJSON(t *testing.T, testFile string) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a throwaway module")
	}
	dir := t.TempDir()
	for name, data := range map[string]string{
		"go.mod":       "module example.com/fake\n\ngo 1.25\n",
		"fake_test.go": testFile,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.Output()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("go test: %v", err)
	}
	return out
}

func fakeTests(verdicts map[string]report.Verdict, fail map[string]bool) string {
	var b strings.Builder
	b.WriteString("package fake\n\nimport \"testing\"\n\nfunc TestReference(t *testing.T) {\n")
	for _, name := range []string{"progress", "consistency", "leaks"} {
		v, ok := verdicts[name]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\tt.Run(%q, func(t *testing.T) {\n\t\tt.Log(%q)\n", name, report.FormatVerdict(v))
		if fail[name] {
			b.WriteString("\t\tt.Error(\"property failed\")\n")
		}
		b.WriteString("\t})\n")
	}
	b.WriteString("}\n\nfunc TestMutants(t *testing.T) {\n\tt.Run(\"lock_across_write\", func(t *testing.T) { t.Fatal(\"the suite passed against mutant lock_across_write\") })\n\tt.Run(\"stale_mailbox\", func(t *testing.T) {})\n}\n")
	return b.String()
}

func TestSummaryFromGoTest(t *testing.T) {
	long := "c0 healthy · voter got no reply to VOTE yes within 2s | " + strings.Repeat("x", 5000)
	out := goTestJSON(t, fakeTests(map[string]report.Verdict{
		"progress": {Property: "progress", Result: report.Fail, Checks: 4, Seed: 42, Report: "/tmp/elsewhere/TestReference_progress", Violation: long},
		"leaks":    {Property: "leaks", Result: report.Pass, Checks: 20},
	}, map[string]bool{"progress": true}))

	reports := t.TempDir()
	r := report.Report{Property: "progress", Violation: "no reply", Clients: []report.Client{{ID: 0, Kind: "healthy"}}}
	if err := r.WriteDir(report.DirFor(reports, "TestReference/progress"), ""); err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := s.Add(bytes.NewReader(out), "run.json"); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := s.Write(&md, summary.Options{ReportDir: reports, ArtifactURL: "https://example.com/a/1"}); err != nil {
		t.Fatal(err)
	}
	got := md.String()
	for _, want := range []string{
		"## stallproof: 1 of 2 property verdicts not as expected, 1 other failing tests",
		"| `fake` TestReference/progress | progress | ❌ FAIL | 4 | c0 healthy · voter got no reply to VOTE yes within 2s \\| xxx",
		"[timeline](https://example.com/a/1) `TestReference_progress/timeline.svg` |",
		"| `fake` TestReference/leaks | leaks | ✅ PASS | 20 |",
		"TestMutants/lock_across_write</summary>",
		"the suite passed against mutant lock_across_write",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"TestReference</summary>", "TestMutants</summary>", "stale_mailbox", "Problems", "build error or TestMain"} {
		if strings.Contains(got, not) {
			t.Errorf("summary holds %q:\n%s", not, got)
		}
	}
	if !strings.Contains(got, "…") || strings.Contains(got, strings.Repeat("x", 400)) {
		t.Error("the long violation was not truncated in the table")
	}
}

// Shards of one soak merge into one row per property.
func TestSummaryMergesShards(t *testing.T) {
	var s summary.Summary
	for i, res := range []string{report.Pass, report.Fail, report.Pass} {
		v := report.Verdict{Property: "progress", Result: res, Checks: 10, Shard: fmt.Sprintf("%d/3", i+1)}
		if res == report.Fail {
			v.Violation = "shard 2 saw it"
		}
		stream := jsonLines(
			event{"output", "m/properties", "TestReference/progress", "    run.go:9: " + report.FormatVerdict(v) + "\n"},
			event{map[bool]string{true: "fail", false: "pass"}[res == report.Fail], "m/properties", "TestReference/progress", ""},
		)
		if err := s.Add(strings.NewReader(stream), fmt.Sprintf("shard-%d.json", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Rows) != 1 {
		t.Fatalf("%d rows, want 1: %+v", len(s.Rows), s.Rows)
	}
	r := s.Rows[0]
	if r.Result != report.Fail || r.Checks != 30 || r.Runs != 3 || len(r.Shards) != 3 || r.Violation != "shard 2 saw it" {
		t.Errorf("merged row %+v", r)
	}
	if len(s.Failures) != 0 {
		t.Errorf("failures explained by the verdict listed: %+v", s.Failures)
	}
	var md bytes.Buffer
	_ = s.Write(&md, summary.Options{})
	if !strings.Contains(md.String(), "| 30 (3 shards) |") {
		t.Errorf("no merged checks in:\n%s", md.String())
	}
}

type event struct{ Action, Package, Test, Output string }

func jsonLines(evs ...event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "{\"Action\":%q,\"Package\":%q,\"Test\":%q,\"Output\":%q}\n", e.Action, e.Package, e.Test, e.Output)
	}
	return b.String()
}

func TestSummaryBadInput(t *testing.T) {
	var s summary.Summary
	in := "# build failed: not json\n" + jsonLines(
		event{"output", "m/p", "TestX", "stallproof: verdict property=p result=MAYBE\n"},
		event{"fail", "m/p", "", ""},
	)
	if err := s.Add(strings.NewReader(in), "bad.json"); err != nil {
		t.Fatal(err)
	}
	if len(s.Problems) != 2 {
		t.Errorf("problems %q, want the non-JSON line and the bad verdict", s.Problems)
	}
	if len(s.Failures) != 1 || s.Failures[0].Test != "" {
		t.Errorf("a failed package with no failed test: failures %+v", s.Failures)
	}
	var md bytes.Buffer
	_ = s.Write(&md, summary.Options{ReportDir: filepath.Join(t.TempDir(), "never-written")})
	for _, want := range []string{"Problems reading the results", "bad.json:1: not go test -json", "result=\"MAYBE\"", "build error or TestMain"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, md.String())
		}
	}
	// A report that does not decode is a problem, not a crash.
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "T"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "T", report.JSONFile), []byte(`{"version": 9}`), 0o644)
	md.Reset()
	if err := (&summary.Summary{}).Write(&md, summary.Options{ReportDir: dir}); err != nil || !strings.Contains(md.String(), "T/report.json: report: version 9") {
		t.Errorf("undecodable report: %v\n%s", err, md.String())
	}
}

// Reports with no verdict line still get a row.
func TestSummaryReportsWithoutVerdicts(t *testing.T) {
	dir := t.TempDir()
	r := report.Report{Property: "bounded", Violation: "heap grew"}
	if err := r.WriteDir(filepath.Join(dir, "TestMine_bounded"), ""); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := (&summary.Summary{}).Write(&md, summary.Options{ReportDir: dir}); err != nil {
		t.Fatal(err)
	}
	// No artifact: a local run, whose timeline is named by its path on disk.
	if want := "| TestMine_bounded | bounded | ❌ FAIL |  | heap grew | `" + filepath.ToSlash(filepath.Join(dir, "TestMine_bounded", "timeline.svg")) + "` |"; !strings.Contains(md.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, md.String())
	}
}

func TestText(t *testing.T) {
	in := jsonLines(event{"start", "m/p", "", ""}, event{"output", "m/p", "T", "=== RUN   T\n"}, event{"output", "m/p", "T", "--- PASS: T\n"}) + "plain line\n"
	var out bytes.Buffer
	if err := summary.Text(&out, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if want := "=== RUN   T\n--- PASS: T\nplain line\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// A mutant's run expects a failure: caught is good, not caught is bad.
func TestSummaryExpectedFailures(t *testing.T) {
	var s summary.Summary
	caught := report.Verdict{Property: "progress", Result: report.Fail, Expect: report.Fail, Violation: "frozen"}
	missed := report.Verdict{Property: "consistency", Result: report.Pass, Expect: report.Fail}
	stream := jsonLines(
		event{"output", "m/properties", "TestMutants/lock_across_write", report.FormatVerdict(caught) + "\n"},
		event{"pass", "m/properties", "TestMutants/lock_across_write", ""},
		event{"output", "m/properties", "TestMutants/stale_mailbox", report.FormatVerdict(missed) + "\n"},
		event{"fail", "m/properties", "TestMutants/stale_mailbox", ""},
	)
	if err := s.Add(strings.NewReader(stream), "mutants.json"); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	_ = s.Write(&md, summary.Options{})
	got := md.String()
	for _, want := range []string{
		"1 of 2 property verdicts not as expected",
		"| `properties` TestMutants/stale_mailbox | consistency | ❌ PASS (expected FAIL) |",
		"| `properties` TestMutants/lock_across_write | progress | ✅ FAIL (caught, as expected) |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "stale_mailbox") > strings.Index(got, "lock_across_write") {
		t.Errorf("the unexpected verdict is not listed first:\n%s", got)
	}
}

// A build failure is listed under its package, with the compiler's output.
func TestSummaryBuildFailure(t *testing.T) {
	in := `{"ImportPath":"m/pkg [m/pkg.test]","Action":"build-output","Output":"# m/pkg [m/pkg.test]\n"}
{"ImportPath":"m/pkg [m/pkg.test]","Action":"build-output","Output":"pkg/x_test.go:4:2: \"flag\" imported and not used\n"}
{"ImportPath":"m/pkg [m/pkg.test]","Action":"build-fail"}
{"Action":"start","Package":"m/pkg"}
{"Action":"output","Package":"m/pkg","Output":"FAIL\tm/pkg [build failed]\n"}
{"Action":"fail","Package":"m/pkg","Elapsed":0,"FailedBuild":"m/pkg [m/pkg.test]"}
`
	var s summary.Summary
	if err := s.Add(strings.NewReader(in), "build.json"); err != nil {
		t.Fatal(err)
	}
	if len(s.Failures) != 1 || s.Failures[0].Package != "m/pkg" || !strings.Contains(s.Failures[0].Output, "imported and not used") {
		t.Errorf("failures %+v, want m/pkg with the compiler's output", s.Failures)
	}
	if len(s.Problems) != 0 {
		t.Errorf("problems %q", s.Problems)
	}
}

// A skipped property says why; properties not run because an earlier one
// found the server stopped answering are one row, naming the cause once.
func TestSummarySkipsAndNotRun(t *testing.T) {
	frozen := `not run: the server stopped answering: c1 (healthy): request "VOTE red" not answered: no answer within the bound (seen while checking progress) (RunAll() runs every property regardless)`
	lines := []event{
		{"output", "m/p", "TestBroken/progress", report.FormatVerdict(report.Verdict{Property: "progress", Result: report.Fail, Checks: 20, Violation: `c1 (healthy): request "VOTE red" not answered`}) + "\n"},
		{"fail", "m/p", "TestBroken/progress", ""},
		{"output", "m/p", "TestBroken/halfclose", report.FormatVerdict(report.Verdict{Property: "halfclose", Result: report.Skip, Violation: "halfclose knows the votes of protocol v1; skipped for chat"}) + "\n"},
		{"skip", "m/p", "TestBroken/halfclose", ""},
	}
	for _, p := range []string{"delivery", "isolation", "bounded", "leaks"} {
		lines = append(lines,
			event{"output", "m/p", "TestBroken/" + p, report.FormatVerdict(report.Verdict{Property: p, Result: report.Fail, Violation: frozen}) + "\n"},
			event{"fail", "m/p", "TestBroken/" + p, ""})
	}
	// Another test's not-run rows, whose cause has no row: said in full.
	lines = append(lines, event{"output", "m/p", "TestOther/leaks", report.FormatVerdict(report.Verdict{Property: "leaks", Result: report.Fail, Violation: frozen}) + "\n"})
	var s summary.Summary
	if err := s.Add(strings.NewReader(jsonLines(lines...)), "run.json"); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	_ = s.Write(&md, summary.Options{})
	got := md.String()
	for _, want := range []string{
		"| `p` TestBroken/halfclose | halfclose | ⏭ SKIP |  | halfclose knows the votes of protocol v1; skipped for chat |",
		"| `p` TestBroken | delivery, isolation, bounded, leaks | ❌ FAIL |  | not run: the server stopped answering: see progress, which found it; RunAll() runs every property regardless |",
		"| `p` TestOther | leaks | ❌ FAIL |  | not run: the server stopped answering: c1 (healthy): request \"VOTE red\" not answered",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "not run:"); n != 2 {
		t.Errorf("%d not-run rows, want 2 (one per test):\n%s", n, got)
	}
}
