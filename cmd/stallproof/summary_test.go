package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSummaryCommand(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "run.json")
	line := `{"Action":"output","Package":"m/properties","Test":"TestReference/leaks","Output":"    run.go:1: stallproof: verdict property=leaks result=PASS checks=20\n"}` + "\n"
	if err := os.WriteFile(file, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"summary", file}, 0, "| `properties` TestReference/leaks | leaks | ✅ PASS | 20 |"},
		{[]string{"summary", "-title", "nightly", file, file}, 0, "## nightly: every property held (1)"},
		{[]string{"summary", "-nope", file}, 2, "flag provided but not defined"},
		{[]string{"summary", filepath.Join(t.TempDir(), "missing.json")}, 1, "no such file"},
		{[]string{"help", "summary"}, 0, "-artifact-url"},
	} {
		var code int
		out, errs := capture(t, func() { code = run(ctx, tc.args) })
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%q: exit %d, output %q; want exit %d and %q", tc.args, code, out+errs, tc.code, tc.want)
		}
	}
}

// With no file, summary reads stdin: go test -json ./... | stallproof summary.
func TestSummaryCommandReadsStdin(t *testing.T) {
	old := stdin
	defer func() { stdin = old }()
	stdin = strings.NewReader(`{"Action":"output","Package":"m/properties","Test":"TestReference/leaks","Output":"    run.go:1: stallproof: verdict property=leaks result=SKIP violation=\"nothing to see\"\n"}` + "\n")
	var code int
	out, _ := capture(t, func() { code = run(context.Background(), []string{"summary"}) })
	if code != 0 || !strings.Contains(out, "| `properties` TestReference/leaks | leaks | ⏭ SKIP |  | nothing to see |") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestTestlogCommand(t *testing.T) {
	old := stdin
	defer func() { stdin = old }()
	stdin = strings.NewReader(`{"Action":"output","Test":"T","Output":"--- FAIL: T\n"}` + "\n")
	var code int
	out, _ := capture(t, func() { code = run(context.Background(), []string{"testlog"}) })
	if code != 0 || out != "--- FAIL: T\n" {
		t.Errorf("exit %d, output %q", code, out)
	}
}
