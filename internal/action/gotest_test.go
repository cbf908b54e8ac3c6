package action_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// tool is the stallproof command, built once for the tests.
var tool string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "stallproof-action-")
	if err != nil {
		panic(err)
	}
	if !testing.Short() {
		tool = filepath.Join(dir, "stallproof")
		cmd := exec.Command("go", "build", "-o", tool, "../../cmd/stallproof")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building stallproof: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { _ = os.RemoveAll(dir) }))
}

// fakeModule is a module with no dependencies whose test fails the way a
// failing property does: it writes a rapid fail file and a report under
// STALLPROOF_REPORT_DIR and prints a verdict line. It also holds a fail
// file committed long ago, which the script must not pick up.
const fakeTest = `package pkg

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServer(t *testing.T) {
	if got := os.Getenv("RAPID_CHECKS"); got != os.Getenv("WANT_CHECKS") {
		t.Fatalf("RAPID_CHECKS=%q", got)
	}
	if got := os.Getenv("STALLPROOF_SHARD"); got != os.Getenv("WANT_SHARD") {
		t.Fatalf("STALLPROOF_SHARD=%q", got)
	}
	dir := os.Getenv("STALLPROOF_REPORT_DIR")
	if !filepath.IsAbs(dir) {
		t.Fatalf("STALLPROOF_REPORT_DIR=%q is not absolute: each package's test runs in its own directory", dir)
	}
	if os.Getenv("FAKE_FAIL") == "" {
		return
	}
	ff := filepath.Join("testdata", "rapid", "TestServer_progress", "TestServer_progress-1-1.fail")
	_ = os.MkdirAll(filepath.Dir(ff), 0o755)
	_ = os.WriteFile(ff, []byte("v0.4.8#1\n0x0"), 0o644)
	_ = os.MkdirAll(filepath.Join(dir, "TestServer_progress"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "TestServer_progress", "report.json"), []byte("{}"), 0o644)
	t.Log("stallproof: verdict property=progress result=FAIL checks=3")
	t.Error("progress failed")
}
`

type run struct {
	code    int
	out     string            // stdout and stderr
	outputs map[string]string // what the script wrote to $GITHUB_OUTPUT
	module  string
}

func runScript(t *testing.T, env map[string]string) run {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	if testing.Short() {
		t.Skip("runs go test on a throwaway module")
	}
	mod := t.TempDir()
	for name, data := range map[string]string{
		"go.mod":                              "module example.com/fake\n\ngo 1.25\n",
		"pkg/fake_test.go":                    fakeTest,
		"pkg/testdata/rapid/Old/Old-1-1.fail": "v0.4.8#2\n0x0",
	} {
		p := filepath.Join(mod, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(mod, "pkg/testdata/rapid/Old/Old-1-1.fail"), old, old); err != nil {
		t.Fatal(err)
	}
	runner := t.TempDir()
	outFile := filepath.Join(runner, "output")
	script, _ := filepath.Abs("gotest.sh")
	cmd := exec.Command(bash, script)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(),
		"GOWORK=off", "GOFLAGS=", "RUNNER_TEMP="+runner, "GITHUB_OUTPUT="+outFile,
		"STALLPROOF_TOOL="+tool,
		"INPUT_PACKAGES=./...", "INPUT_REPORT_DIR=reports", "INPUT_UPLOAD=failure",
		"INPUT_CHECKS=", "INPUT_SHARD=", "INPUT_TEST_FLAGS=-count=1",
	)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	r := run{out: string(out), outputs: map[string]string{}, module: mod}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(outFile)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.outputs[k] = v
		}
	}
	return r
}

func TestGotestFailure(t *testing.T) {
	r := runScript(t, map[string]string{
		"FAKE_FAIL": "1", "INPUT_CHECKS": "7", "WANT_CHECKS": "7", "INPUT_SHARD": "2/4", "WANT_SHARD": "2/4",
		"INPUT_PACKAGES": "./pkg/\n./...", // newlines split like spaces
	})
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (a later step fails the job):\n%s", r.code, r.out)
	}
	if r.outputs["result"] != "fail" {
		t.Errorf("result=%q, want fail:\n%s", r.outputs["result"], r.out)
	}
	dir := r.outputs["report-dir"]
	if want := filepath.Join(r.module, "reports"); dir != want {
		t.Errorf("report-dir=%q, want %q", dir, want)
	}
	for _, f := range []string{
		"go-test.json",
		"TestServer_progress/report.json",
		"fail-files/pkg/testdata/rapid/TestServer_progress/TestServer_progress-1-1.fail",
	} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the report directory lacks %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "fail-files/pkg/testdata/rapid/Old")); err == nil {
		t.Error("a fail file older than the run was kept")
	}
	json, _ := os.ReadFile(filepath.Join(dir, "go-test.json"))
	if !strings.Contains(string(json), `stallproof: verdict property=progress result=FAIL`) || !strings.Contains(string(json), `"Action":"fail"`) {
		t.Errorf("go-test.json is not the run's go test -json:\n%s", json)
	}
	// The log is go test's text, not its JSON.
	if r.outputs["json"] == "" || strings.Contains(r.out, `"Action":`) || !strings.Contains(r.out, "--- FAIL: TestServer") {
		t.Errorf("json output %q; log:\n%s", r.outputs["json"], r.out)
	}
}

func TestGotestPass(t *testing.T) {
	r := runScript(t, nil)
	if r.code != 0 || r.outputs["result"] != "pass" {
		t.Fatalf("exit %d, result=%q:\n%s", r.code, r.outputs["result"], r.out)
	}
	entries, _ := os.ReadDir(r.outputs["report-dir"])
	if len(entries) != 1 || entries[0].Name() != "go-test.json" {
		t.Errorf("a passing run kept %v, want only go-test.json", entries)
	}
}

func TestGotestBadInputs(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"checks not a number": {"INPUT_CHECKS": "many"},
		"checks zero":         {"INPUT_CHECKS": "0"},
		"shard malformed":     {"INPUT_SHARD": "2 of 4"},
		"upload unknown":      {"INPUT_UPLOAD": "sometimes"},
	} {
		r := runScript(t, env)
		if r.code != 2 || !strings.Contains(r.out, "::error title=stallproof::") {
			t.Errorf("%s: exit %d, want 2 with an ::error annotation:\n%s", name, r.code, r.out)
		}
		if r.outputs["result"] != "" {
			t.Errorf("%s: result=%q written", name, r.outputs["result"])
		}
	}
}
