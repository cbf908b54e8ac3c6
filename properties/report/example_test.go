package report_test

import (
	"fmt"

	"github.com/stallproof/stallproof/properties/report"
)

func ExampleFormatVerdict() {
	fmt.Println(report.FormatVerdict(report.Verdict{
		Property:  "progress",
		Result:    report.Fail,
		Checks:    4,
		Seed:      8213418841,
		Report:    "stallproof-reports/TestReference_progress",
		Violation: "c0 healthy · voter got no reply to VOTE yes within 2s",
	}))
	fmt.Println(report.FormatVerdict(report.Verdict{Property: "leaks", Result: report.Pass, Checks: 20}))
	// Output:
	// stallproof: verdict property=progress result=FAIL checks=4 seed=8213418841 report=stallproof-reports/TestReference_progress violation="c0 healthy · voter got no reply to VOTE yes within 2s"
	// stallproof: verdict property=leaks result=PASS checks=20
}

func ExampleParseVerdict() {
	// A line of go test's output, as t.Log prints it.
	line := `    run.go:88: stallproof: verdict property=progress result=FAIL checks=4 violation="no reply within 2s"`
	v, ok, err := report.ParseVerdict(line)
	fmt.Println(ok, err)
	fmt.Printf("%s %s %q\n", v.Property, v.Result, v.Violation)
	// Output:
	// true <nil>
	// progress FAIL "no reply within 2s"
}
