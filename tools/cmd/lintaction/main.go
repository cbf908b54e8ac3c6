// Command lintaction lints the repository's composite action (action.yml)
// and the README's "Use it in CI" snippet with actionlint, which lints
// only workflow files (rhysd/actionlint#46):
//
//   - action.yml's steps are put in a workflow of their own, as the steps
//     of one job, under a workflow_call trigger with the action's inputs,
//     so that actionlint checks their expressions, the pinned actions'
//     inputs and, with shellcheck on the PATH, their scripts; errors are
//     reported at their line in action.yml;
//   - the first yaml code block after the README's "## Use it in CI"
//     heading is written as .github/workflows/stallproof.yml of a scratch
//     repository holding a copy of action.yml, its "uses:
//     stallproof/stallproof@..." turned into "uses: ./", so that actionlint
//     also checks the snippet's inputs against the action's metadata.
//
// Usage, from the repository root (make lint does this):
//
//	lintaction -action action.yml -readme README.md
//
// It exits 1 if actionlint reports anything, 2 on bad arguments or input.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
)

func main() {
	action := flag.String("action", "action.yml", "the composite action's metadata file")
	readme := flag.String("readme", "README.md", "the README holding the \"## Use it in CI\" snippet; empty to skip")
	flag.Parse()
	n, err := run(os.Stdout, *action, *readme)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lintaction:", err)
		os.Exit(2)
	}
	if n > 0 {
		fmt.Fprintf(os.Stderr, "lintaction: %d problems\n", n)
		os.Exit(1)
	}
}

func run(out io.Writer, actionPath, readmePath string) (int, error) {
	meta, err := os.ReadFile(actionPath)
	if err != nil {
		return 0, err
	}
	wf, offset, err := actionAsWorkflow(string(meta))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", actionPath, err)
	}
	errs, err := lint(filepath.Join(os.TempDir(), "lintaction-action-workflow.yml"), []byte(wf), "")
	if err != nil {
		return 0, err
	}
	for _, e := range errs {
		line := e.Line
		if line > offset.synthetic {
			line = line - offset.synthetic + offset.action
		} else {
			line = 0 // in the generated header: the inputs
		}
		fmt.Fprintf(out, "%s:%d:%d: %s [%s]\n", actionPath, line, e.Column, e.Message, e.Kind)
	}
	n := len(errs)
	if readmePath == "" {
		return n, nil
	}

	text, err := os.ReadFile(readmePath)
	if err != nil {
		return n, err
	}
	snippet, line, err := ciSnippet(string(text))
	if err != nil {
		return n, fmt.Errorf("%s: %w", readmePath, err)
	}
	scratch, err := os.MkdirTemp("", "lintaction-")
	if err != nil {
		return n, err
	}
	defer os.RemoveAll(scratch)
	if err := os.MkdirAll(filepath.Join(scratch, ".github", "workflows"), 0o755); err != nil {
		return n, err
	}
	if err := os.WriteFile(filepath.Join(scratch, "action.yml"), meta, 0o644); err != nil {
		return n, err
	}
	usesRE := regexp.MustCompile(`uses:\s*stallproof/stallproof@\S+`)
	if !usesRE.MatchString(snippet) {
		return n, fmt.Errorf("%s: the snippet does not use stallproof/stallproof@<ref>", readmePath)
	}
	local := usesRE.ReplaceAllString(snippet, "uses: ./")
	wfPath := filepath.Join(scratch, ".github", "workflows", "stallproof.yml")
	if err := os.WriteFile(wfPath, []byte(local), 0o644); err != nil {
		return n, err
	}
	errs, err = lint(wfPath, nil, scratch)
	if err != nil {
		return n, err
	}
	for _, e := range errs {
		fmt.Fprintf(out, "%s:%d:%d: (snippet) %s [%s]\n", readmePath, line+e.Line, e.Column, e.Message, e.Kind)
	}
	return n + len(errs), nil
}

// lint runs actionlint on the workflow at path (content, if not nil, in
// place of the file's), in the repository at root ("" for none).
func lint(path string, content []byte, root string) ([]*actionlint.Error, error) {
	opts := &actionlint.LinterOptions{}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		return nil, err
	}
	var project *actionlint.Project
	if root != "" {
		if project, err = actionlint.NewProject(root); err != nil {
			return nil, err
		}
	}
	if content == nil {
		return l.LintFile(path, project)
	}
	return l.Lint(path, content, project)
}

type lineOffset struct{ synthetic, action int }

// actionAsWorkflow builds a workflow whose one job runs the action's
// steps, with the action's inputs as workflow_call inputs. The steps are
// copied verbatim; offset maps the workflow's lines back to action.yml's.
func actionAsWorkflow(meta string) (string, lineOffset, error) {
	lines := strings.Split(meta, "\n")
	var inputs []string
	section, stepsAt := "", -1
	for i, l := range lines {
		switch {
		case l == "" || strings.HasPrefix(strings.TrimSpace(l), "#"):
		case !strings.HasPrefix(l, " "):
			section = strings.TrimSuffix(strings.TrimSpace(l), ":")
		case section == "inputs" && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") && strings.HasSuffix(l, ":"):
			inputs = append(inputs, strings.TrimSuffix(strings.TrimSpace(l), ":"))
		case section == "runs" && strings.TrimSpace(l) == "using: node20", section == "runs" && strings.TrimSpace(l) == "using: docker":
			return "", lineOffset{}, errors.New("not a composite action")
		case section == "runs" && l == "  steps:":
			stepsAt = i
		}
	}
	if stepsAt < 0 {
		return "", lineOffset{}, errors.New(`no "runs:" with "  steps:" found`)
	}
	var b strings.Builder
	b.WriteString("name: action.yml as a workflow\non:\n  workflow_call:\n")
	if len(inputs) > 0 {
		b.WriteString("    inputs:\n")
		for _, in := range inputs {
			fmt.Fprintf(&b, "      %s:\n        type: string\n        required: false\n", in)
		}
	}
	b.WriteString("permissions: {}\njobs:\n  action:\n    runs-on: ubuntu-latest\n    steps:\n")
	header := strings.Count(b.String(), "\n")
	for _, l := range lines[stepsAt+1:] {
		if l != "" && !strings.HasPrefix(l, "    ") && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			break // the end of runs.steps
		}
		b.WriteString(l + "\n")
	}
	return b.String(), lineOffset{synthetic: header, action: stepsAt + 1}, nil
}

// ciSnippet returns the first ```yaml block after "## Use it in CI" and
// the README line just before the block's first line.
func ciSnippet(readme string) (string, int, error) {
	lines := strings.Split(readme, "\n")
	in, start := false, -1
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "## "):
			if start < 0 {
				in = strings.TrimSpace(l) == "## Use it in CI"
			}
		case in && start < 0 && strings.TrimSpace(l) == "```yaml":
			start = i + 1
		case start >= 0 && strings.TrimSpace(l) == "```":
			return strings.Join(lines[start:i], "\n") + "\n", start, nil
		}
	}
	return "", 0, errors.New(`no "## Use it in CI" section with a yaml code block`)
}
