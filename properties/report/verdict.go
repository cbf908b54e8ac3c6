package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// VerdictPrefix starts every verdict line. Anything before it on the line
// (the "file.go:12: " that t.Log adds, say) is ignored by [ParseVerdict].
const VerdictPrefix = "stallproof: verdict "

// Results of a verdict.
const (
	Pass = "PASS"
	Fail = "FAIL"
	Skip = "SKIP"
)

// Verdict is the outcome of one property in one run, printed as one line
// (see [FormatVerdict]) that go test -json consumers can pick up without
// reading the report.
type Verdict struct {
	Property  string // "progress", ...
	Result    string // Pass, Fail or Skip
	Checks    int    // checks run; 0 if unknown
	Seed      uint64 // rapid's seed of the failing check, or the run's base seed; 0 if unknown
	Shard     string // "i/n" when the run was one shard of a soak; "" if not sharded
	Report    string // the report's directory, when one was written
	Expect    string // the result the run expects, when not Pass: Fail for a mutant the property must catch
	Violation string // the violation, for a failure; why, for a skip
	Note      string // what a pass or failure did not cover: phases skipped, checks inconclusive
}

// OK reports whether the verdict is what the run expects: a pass, a skip,
// or the failure of a run that expects one (a mutant caught).
func (v Verdict) OK() bool {
	if v.Expect != "" {
		return v.Result == v.Expect
	}
	return v.Result != Fail
}

// FormatVerdict formats v as one line:
//
//	stallproof: verdict property=NAME result=PASS|FAIL|SKIP [checks=N] [seed=N] [shard=I/N] [report=DIR] [expect=FAIL] [violation=TEXT] [note=TEXT]
//
// Keys come in that order, each once; the optional ones are left out when
// zero. A value is written bare when it is made only of letters, digits
// and the characters . _ / : + -, and otherwise as a Go quoted string
// (strconv.Quote), so a violation with spaces or newlines stays on the
// line.
func FormatVerdict(v Verdict) string {
	var b strings.Builder
	b.WriteString(VerdictPrefix)
	kv := func(k, val string) {
		if b.Len() > len(VerdictPrefix) {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(val))
	}
	kv("property", v.Property)
	kv("result", v.Result)
	if v.Checks != 0 {
		kv("checks", strconv.Itoa(v.Checks))
	}
	if v.Seed != 0 {
		kv("seed", strconv.FormatUint(v.Seed, 10))
	}
	if v.Shard != "" {
		kv("shard", v.Shard)
	}
	if v.Report != "" {
		kv("report", v.Report)
	}
	if v.Expect != "" {
		kv("expect", v.Expect)
	}
	if v.Violation != "" {
		kv("violation", v.Violation)
	}
	if v.Note != "" {
		kv("note", v.Note)
	}
	return b.String()
}

func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/:+-", r)) {
			return strconv.Quote(s)
		}
	}
	return s
}

// ParseVerdict finds a verdict line (see [FormatVerdict]) in line. It
// returns ok false if line holds none, and an error if it holds a
// malformed one. Unknown keys are skipped, for lines from newer versions.
func ParseVerdict(line string) (v Verdict, ok bool, err error) {
	i := strings.Index(line, VerdictPrefix)
	if i < 0 {
		return Verdict{}, false, nil
	}
	rest := strings.TrimRight(line[i+len(VerdictPrefix):], "\r\n")
	seen := map[string]bool{}
	for rest = strings.TrimLeft(rest, " "); rest != ""; rest = strings.TrimLeft(rest, " ") {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || strings.ContainsRune(rest[:eq], ' ') {
			return Verdict{}, true, fmt.Errorf("verdict: want key=value at %q", rest)
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return Verdict{}, true, fmt.Errorf("verdict: bad quoted value of %s: %q", key, rest)
			}
			val, _ = strconv.Unquote(q) // QuotedPrefix checked it
			rest = rest[len(q):]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		if seen[key] {
			return Verdict{}, true, fmt.Errorf("verdict: key %s given twice", key)
		}
		seen[key] = true
		switch key {
		case "property":
			v.Property = val
		case "result":
			v.Result = val
		case "checks":
			if v.Checks, err = strconv.Atoi(val); err != nil || v.Checks < 0 {
				return Verdict{}, true, fmt.Errorf("verdict: checks=%q is not a count", val)
			}
		case "seed":
			if v.Seed, err = strconv.ParseUint(val, 10, 64); err != nil {
				return Verdict{}, true, fmt.Errorf("verdict: seed=%q is not a decimal uint64", val)
			}
		case "shard":
			v.Shard = val
		case "report":
			v.Report = val
		case "expect":
			v.Expect = val
		case "violation":
			v.Violation = val
		case "note":
			v.Note = val
		}
	}
	switch {
	case v.Property == "":
		return Verdict{}, true, errors.New("verdict: no property")
	case v.Result != Pass && v.Result != Fail && v.Result != Skip:
		return Verdict{}, true, fmt.Errorf("verdict: result=%q, want PASS, FAIL or SKIP", v.Result)
	case v.Expect != "" && v.Expect != Pass && v.Expect != Fail:
		return Verdict{}, true, fmt.Errorf("verdict: expect=%q, want PASS or FAIL", v.Expect)
	}
	return v, true, nil
}
