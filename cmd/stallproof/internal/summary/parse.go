package summary

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stallproof/stallproof/properties/report"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // of build-output and build-fail events, which have no Package
	Test       string
	Output     string
}

// Row is one property of one test, over every run merged into it.
type Row struct {
	Package   string
	Test      string // the test that printed the verdict: "TestReference/progress"
	Property  string
	Result    string // report.Pass, report.Fail or report.Skip: FAIL if any run failed
	Expect    string // what the runs expect, if not a pass: report.Fail for a mutant
	Checks    int    // checks over every run
	Runs      int    // verdicts merged into the row
	Shards    []string
	Violation string // the first failing run's
	Why       string // for a skip: the first skipping run's reason
	Report    string // the first failing run's report directory, as the engine named it
}

// Failure is a test that failed with no failing verdict to explain it: a
// mutant the suite did not catch, a build error, a panic.
type Failure struct {
	Package string
	Test    string // "" for the package itself (build error, TestMain)
	Output  string // its last lines of output
}

// Summary is what one or more go test -json streams say.
type Summary struct {
	Rows     []Row
	Failures []Failure
	Problems []string // malformed input worth showing: bad verdict lines, bad JSON
	Passed   int      // tests that passed
	Failed   int      // tests that failed
}

type testKey struct{ pkg, test string }

// Add reads one go test -json stream, named source in problems, and merges
// what it says into s. A line that is not JSON is noted (go test prints
// some build errors that way) and skipped; a read error is returned.
func (s *Summary) Add(r io.Reader, source string) error {
	out := map[testKey]*strings.Builder{}
	var order []testKey
	result := map[testKey]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			s.Problems = append(s.Problems, fmt.Sprintf("%s:%d: not go test -json: %.120s", source, lineNo, line))
			continue
		}
		pkg := ev.Package
		if pkg == "" {
			// "example.com/m/pkg [example.com/m/pkg.test]"
			pkg, _, _ = strings.Cut(ev.ImportPath, " ")
		}
		k := testKey{pkg, ev.Test}
		switch ev.Action {
		case "output", "build-output":
			b := out[k]
			if b == nil {
				b = &strings.Builder{}
				out[k] = b
				order = append(order, k)
			}
			b.WriteString(ev.Output)
		case "pass", "fail", "skip":
			result[k] = ev.Action
		case "build-fail":
			result[testKey{pkg, ""}] = "fail"
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}

	// Verdicts, from each test's whole output: test2json may split a long
	// line over several events.
	explained := map[testKey]bool{}
	for _, k := range order {
		for _, line := range strings.Split(out[k].String(), "\n") {
			v, ok, err := report.ParseVerdict(line)
			if !ok {
				continue
			}
			if err != nil {
				s.Problems = append(s.Problems, fmt.Sprintf("%s: %s %s: %v", source, k.pkg, k.test, err))
				continue
			}
			s.merge(k, v)
			if v.Result == report.Fail {
				// The verdict explains its test's failure, its parents',
				// and that of a subtest named after the property (when
				// the parent prints the verdicts of its subtests).
				explained[testKey{k.pkg, k.test + "/" + v.Property}] = true
				for t := k.test; t != ""; t = parent(t) {
					explained[testKey{k.pkg, t}] = true
				}
			}
		}
	}
	// Tests that failed with no failing verdict of their own or of a
	// subtest. A parent failing because a child failed is left out when
	// the child is listed.
	failedKeys := []testKey{}
	for k, r := range result {
		switch {
		case r == "pass" && k.test != "":
			s.Passed++
		case r == "fail" && k.test != "":
			s.Failed++
		}
		if r == "fail" && !explained[k] {
			failedKeys = append(failedKeys, k)
		}
	}
	slices.SortFunc(failedKeys, func(a, b testKey) int {
		return strings.Compare(a.pkg+"\x00"+a.test, b.pkg+"\x00"+b.test)
	})
	for _, k := range failedKeys {
		if hasFailedChild(failedKeys, k) {
			continue
		}
		if k.test == "" && anyFailedTest(result, k.pkg) {
			continue // the package failed because a test did
		}
		text := ""
		if b := out[k]; b != nil {
			text = lastLines(b.String(), 12)
		}
		s.Failures = append(s.Failures, Failure{Package: k.pkg, Test: k.test, Output: text})
	}
	return nil
}

func (s *Summary) merge(k testKey, v report.Verdict) {
	i := slices.IndexFunc(s.Rows, func(r Row) bool {
		return r.Package == k.pkg && r.Test == k.test && r.Property == v.Property
	})
	if i < 0 {
		s.Rows = append(s.Rows, Row{Package: k.pkg, Test: k.test, Property: v.Property, Result: v.Result, Expect: v.Expect})
		i = len(s.Rows) - 1
	}
	r := &s.Rows[i]
	r.Runs++
	r.Checks += v.Checks
	if v.Shard != "" && !slices.Contains(r.Shards, v.Shard) {
		r.Shards = append(r.Shards, v.Shard)
	}
	if rank(v.Result) > rank(r.Result) {
		r.Result = v.Result
	}
	if v.Result == report.Fail && r.Violation == "" {
		r.Violation, r.Report = v.Violation, v.Report
	}
	if v.Result == report.Skip && r.Why == "" {
		r.Why = v.Violation // a skip's verdict says why in its violation
	}
}

// OK reports whether the row's result is what its runs expect.
func (r Row) OK() bool { return report.Verdict{Result: r.Result, Expect: r.Expect}.OK() }

// rank orders results for merging: any failure fails the row; a row
// passes if any run passed and none failed.
func rank(result string) int {
	switch result {
	case report.Fail:
		return 2
	case report.Pass:
		return 1
	}
	return 0
}

func parent(test string) string {
	if i := strings.LastIndexByte(test, '/'); i >= 0 {
		return test[:i]
	}
	return ""
}

func hasFailedChild(keys []testKey, k testKey) bool {
	return k.test != "" && slices.ContainsFunc(keys, func(o testKey) bool {
		return o.pkg == k.pkg && strings.HasPrefix(o.test, k.test+"/")
	})
}

func anyFailedTest(result map[testKey]string, pkg string) bool {
	for k, r := range result {
		if k.pkg == pkg && k.test != "" && r == "fail" {
			return true
		}
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Text copies a go test -json stream from r to w as go test's usual text
// output (each event's Output), line by line as it arrives, so a CI log
// stays readable while the JSON is kept for the summary. Lines that are
// not JSON are copied as they are.
func Text(w io.Writer, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev event
		line := sc.Bytes()
		var err error
		if json.Unmarshal(line, &ev) == nil && ev.Action != "" {
			if ev.Action == "output" || ev.Action == "build-output" {
				_, err = io.WriteString(w, ev.Output)
			}
		} else {
			_, err = fmt.Fprintf(w, "%s\n", line)
		}
		if err != nil {
			return err
		}
	}
	return sc.Err()
}
