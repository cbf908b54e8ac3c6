package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/stallproof/stallproof/properties/report"
)

func TestWriteDirFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports", "TestX_progress")
	fail := filepath.Join(t.TempDir(), "TestX_progress-20261129-1.fail")
	failData := "# rapid's output\nv0.4.8#42\n0x1\n0x2"
	if err := os.WriteFile(fail, []byte(failData), 0o644); err != nil {
		t.Fatal(err)
	}
	r := freeze()
	if err := r.WriteDir(dir, fail); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if errs := validateJSON(t, data); len(errs) > 0 {
		t.Errorf("report.json does not match the schema:\n%s", strings.Join(errs, "\n"))
	}
	var back report.Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	r.Version = report.Version
	if !reflect.DeepEqual(back, *r) {
		t.Errorf("report.json reads back as\n%+v\nwant\n%+v", back, *r)
	}

	svg, err := os.ReadFile(filepath.Join(dir, report.TimelineFile))
	if err != nil {
		t.Fatal(err)
	}
	if s := parseSVG(t, svg); len(s.lanes) != len(r.Clients) || len(s.violations) != 1 {
		t.Errorf("timeline.svg: %d lanes, %d violation lines", len(s.lanes), len(s.violations))
	}

	cp, err := os.ReadFile(filepath.Join(dir, filepath.Base(fail)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(cp, []byte(failData)) {
		t.Errorf("the fail file's copy does not end with the original:\n%s", cp)
	}
	header := strings.TrimSuffix(string(cp), failData)
	if !strings.Contains(header, r.Replay) {
		t.Errorf("the copy's header lacks the replay command:\n%s", header)
	}
	for _, line := range strings.Split(strings.TrimSuffix(header, "\n"), "\n") {
		if !strings.HasPrefix(line, "#") {
			t.Errorf("header line %q is not a comment: rapid would read it as data", line)
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, report.ReadmeFile))
	if err != nil || !strings.Contains(string(readme), r.Replay) || !strings.Contains(string(readme), filepath.Base(fail)) {
		t.Errorf("README.md lacks the replay command or the fail file (%v):\n%s", err, readme)
	}
}

func TestWriteDirErrors(t *testing.T) {
	if err := freeze().WriteDir(t.TempDir(), filepath.Join(t.TempDir(), "missing.fail")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing fail file: %v, want an error wrapping os.ErrNotExist", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(file, nil, 0o644)
	if err := freeze().WriteDir(filepath.Join(file, "sub"), ""); err == nil {
		t.Error("a directory under a file: no error")
	}
	dir := t.TempDir()
	if err := freeze().WriteDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("without a fail file, %d files, want report.json, timeline.svg, README.md", len(entries))
	}
}

func TestDirFor(t *testing.T) {
	for name, want := range map[string]string{
		"TestReference/progress":          "TestReference_progress",
		"TestMutants/lock_across_write#1": "TestMutants_lock_across_write_1",
		"../../etc":                       ".._.._etc",
		"..":                              "_",
		"":                                "_",
	} {
		if got := report.DirFor("base", name); got != filepath.Join("base", want) {
			t.Errorf("DirFor(base, %q) = %q, want base/%s", name, got, want)
		}
	}
}

// fakeTB is a rapid.TB that records instead of failing the test, so a
// property can fail on purpose here.
type fakeTB struct {
	name   string
	failed bool
	log    strings.Builder
}

type failNow struct{}

func (f *fakeTB) Helper()                 {}
func (f *fakeTB) Name() string            { return f.name }
func (f *fakeTB) Logf(s string, a ...any) { fmt.Fprintf(&f.log, s+"\n", a...) }
func (f *fakeTB) Log(a ...any)            { fmt.Fprintln(&f.log, a...) }
func (f *fakeTB) Skipf(s string, a ...any) {
	panic("skip")
}
func (f *fakeTB) Skip(a ...any)             { panic("skip") }
func (f *fakeTB) SkipNow()                  { panic("skip") }
func (f *fakeTB) Errorf(s string, a ...any) { f.failed = true; f.Logf(s, a...) }
func (f *fakeTB) Error(a ...any)            { f.failed = true; f.Log(a...) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.Errorf(s, a...); panic(failNow{}) }
func (f *fakeTB) Fatal(a ...any)            { f.Error(a...); panic(failNow{}) }
func (f *fakeTB) FailNow()                  { f.failed = true; panic(failNow{}) }
func (f *fakeTB) Fail()                     { f.failed = true }
func (f *fakeTB) Failed() bool              { return f.failed }

func check(tb *fakeTB, prop func(*rapid.T)) {
	defer func() {
		if r := recover(); r != nil && r != (failNow{}) {
			panic(r)
		}
	}()
	rapid.Check(tb, prop)
}

// The fail file rapid writes is found by FailFile, copied by WriteDir, and
// the copy alone replays the same shrunk counterexample.
func TestFailFileCopyReplays(t *testing.T) {
	t.Chdir(t.TempDir())
	const name = "TestFake/replay"
	prop := func(seen *[]int) func(*rapid.T) {
		return func(rt *rapid.T) {
			n := rapid.IntRange(0, 1_000_000).Draw(rt, "n")
			*seen = append(*seen, n)
			if n >= 1000 {
				rt.Fatalf("n = %d, too big", n)
			}
		}
	}
	var first []int
	tb := &fakeTB{name: name}
	check(tb, prop(&first))
	if !tb.failed {
		t.Fatal("the property did not fail; the test proves nothing")
	}
	fail := report.FailFile(name)
	if fail == "" {
		t.Fatalf("FailFile(%q) found nothing; rapid said:\n%s", name, tb.log.String())
	}
	dir := filepath.Join("reports", "r")
	if err := (&report.Report{Property: "fake", Violation: "n too big", Replay: "go test -run x"}).WriteDir(dir, fail); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll("testdata"); err != nil { // only the copy is left
		t.Fatal(err)
	}

	f := flag.Lookup("rapid.failfile")
	old := f.Value.String()
	if err := f.Value.Set(filepath.Join(dir, filepath.Base(fail))); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Value.Set(old) }()
	var replay []int
	tb2 := &fakeTB{name: name}
	check(tb2, prop(&replay))
	if !tb2.failed || len(replay) == 0 {
		t.Fatalf("the copy did not replay a failure:\n%s", tb2.log.String())
	}
	if replay[0] != 1000 {
		t.Errorf("the copy replayed n = %d first, want the shrunk 1000 (first run drew %d values)", replay[0], len(first))
	}
}
