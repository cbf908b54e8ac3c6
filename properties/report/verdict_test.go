package report_test

import (
	"strings"
	"testing"
	"testing/quick"

	"github.com/stallproof/stallproof/properties/report"
)

func TestVerdictRoundTrip(t *testing.T) {
	for _, v := range []report.Verdict{
		{Property: "progress", Result: report.Pass, Checks: 20, Seed: 1},
		{Property: "progress", Result: report.Fail, Checks: 3, Seed: 1<<64 - 1, Shard: "2/4", Report: "reports/TestReference_progress",
			Violation: "c0 healthy · voter got no reply to \"VOTE yes\" within 2s\nsecond line\twith a tab"},
		{Property: "halfclose", Result: report.Skip, Violation: "needs protocol v1; skipped with an Adapter"},
		{Property: "x", Result: report.Fail, Violation: `a=b c="d" stallproof: verdict property=y result=PASS`},
		{Property: "progress", Result: report.Fail, Expect: report.Fail, Violation: "caught"},
	} {
		line := report.FormatVerdict(v)
		if strings.ContainsAny(line, "\n\r") {
			t.Errorf("verdict on more than one line: %q", line)
		}
		// As go test prints it after t.Log.
		got, ok, err := report.ParseVerdict("    run.go:77: " + line + "\n")
		if !ok || err != nil || got != v {
			t.Errorf("ParseVerdict(%q) = %+v, %v, %v; want %+v", line, got, ok, err, v)
		}
	}
}

func TestVerdictRoundTripQuick(t *testing.T) {
	f := func(prop, violation, shard string, checks uint16, seed uint64) bool {
		if prop == "" {
			prop = "p"
		}
		v := report.Verdict{Property: prop, Result: report.Fail, Checks: int(checks), Seed: seed, Shard: shard, Violation: violation}
		got, ok, err := report.ParseVerdict(report.FormatVerdict(v))
		return ok && err == nil && got == v
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}

func TestVerdictFormat(t *testing.T) {
	got := report.FormatVerdict(report.Verdict{Property: "progress", Result: report.Fail, Checks: 7, Violation: "no reply"})
	want := `stallproof: verdict property=progress result=FAIL checks=7 violation="no reply"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestParseVerdictRejects(t *testing.T) {
	if _, ok, err := report.ParseVerdict("=== RUN   TestReference/progress"); ok || err != nil {
		t.Errorf("a line without a verdict: ok=%v err=%v", ok, err)
	}
	for _, line := range []string{
		"stallproof: verdict result=PASS",
		"stallproof: verdict property=p",
		"stallproof: verdict property=p result=MAYBE",
		"stallproof: verdict property=p result=PASS checks=-1",
		"stallproof: verdict property=p result=PASS checks=x",
		"stallproof: verdict property=p result=PASS seed=0x1",
		`stallproof: verdict property=p result=FAIL violation="unterminated`,
		"stallproof: verdict property=p result=PASS property=q",
		"stallproof: verdict property=p result=PASS junk",
		"stallproof: verdict property=p result=FAIL expect=SKIP",
	} {
		if _, ok, err := report.ParseVerdict(line); !ok || err == nil {
			t.Errorf("ParseVerdict(%q): ok=%v err=%v, want an error", line, ok, err)
		}
	}
	// Unknown keys are skipped.
	v, ok, err := report.ParseVerdict("stallproof: verdict property=p result=PASS future=1 also=\"x y\"")
	if !ok || err != nil || v.Property != "p" {
		t.Errorf("unknown keys: %+v %v %v", v, ok, err)
	}
}

func TestVerdictOK(t *testing.T) {
	for _, tc := range []struct {
		v    report.Verdict
		want bool
	}{
		{report.Verdict{Result: report.Pass}, true},
		{report.Verdict{Result: report.Skip}, true},
		{report.Verdict{Result: report.Fail}, false},
		{report.Verdict{Result: report.Fail, Expect: report.Fail}, true},
		{report.Verdict{Result: report.Pass, Expect: report.Fail}, false},
	} {
		if got := tc.v.OK(); got != tc.want {
			t.Errorf("%+v.OK() = %v", tc.v, got)
		}
	}
}

// FuzzParseVerdict: any line parses without a panic, and a verdict that
// parses formats back to a line that parses to the same verdict.
func FuzzParseVerdict(f *testing.F) {
	f.Add(`    run.go:9: stallproof: verdict property=progress result=FAIL checks=4 seed=1 shard=1/4 report=r expect=FAIL violation="a \"b\"\n"`)
	f.Add("stallproof: verdict property=p result=PASS x=")
	f.Add(`stallproof: verdict property="" result=SKIP`)
	f.Fuzz(func(t *testing.T, line string) {
		v, ok, err := report.ParseVerdict(line)
		if !ok || err != nil {
			return
		}
		again, ok, err := report.ParseVerdict(report.FormatVerdict(v))
		if !ok || err != nil || again != v {
			t.Errorf("%q parsed as %+v, which formats to %q, which parses as %+v, %v", line, v, report.FormatVerdict(v), again, err)
		}
	})
}
