package summary

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stallproof/stallproof/properties/report"
)

// Options says where the reports are and how to link to them.
type Options struct {
	// ReportDir is STALLPROOF_REPORT_DIR of the run: each report is a
	// directory under it holding report.json. "" for none.
	ReportDir string
	// ArtifactURL is where the reports were uploaded (actions/upload-artifact's
	// artifact-url output); the timeline links point there. "" for none.
	ArtifactURL string
	// Title heads the summary; "stallproof" if empty.
	Title string
}

// found is a report directory found under Options.ReportDir.
type found struct {
	name string // its path under ReportDir, slash-separated
	rep  report.Report
	used bool
}

// Reports finds the reports under dir: every report.json, read and
// decoded. A report that does not decode is returned as a problem.
func findReports(dir string) ([]*found, []string, error) {
	if dir == "" {
		return nil, nil, nil
	}
	var (
		out      []*found
		problems []string
	)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll // no report was written: nothing failed, or nothing was wired
			}
			return err
		}
		if d.IsDir() || d.Name() != report.JSONFile {
			return nil
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(p))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r report.Report
		if err := json.Unmarshal(data, &r); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", filepath.ToSlash(filepath.Join(rel, report.JSONFile)), err))
			return nil
		}
		out = append(out, &found{name: filepath.ToSlash(rel), rep: r})
		return nil
	})
	return out, problems, err
}

// Write writes s as GitHub-flavoured Markdown for a job summary: a table
// of property × verdict with the violation and a link to the timeline,
// then the failing tests no verdict explains, then any problems with the
// input. Reports under opts.ReportDir that no verdict names get rows of
// their own, so the table is complete even when verdict lines are missing.
func (s *Summary) Write(w io.Writer, opts Options) error {
	reports, problems, err := findReports(opts.ReportDir)
	if err != nil {
		return err
	}
	rows := slices.Clone(s.Rows)
	for i := range rows {
		if rows[i].Report == "" {
			continue
		}
		base := filepath.Base(filepath.FromSlash(rows[i].Report))
		for _, f := range reports {
			if !f.used && path.Base(f.name) == base {
				f.used = true
				rows[i].Report = f.name
				break
			}
		}
	}
	for _, f := range reports {
		if !f.used {
			rows = append(rows, Row{Test: f.name, Property: f.rep.Property, Result: report.Fail, Violation: f.rep.Violation, Report: f.name})
		}
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return okRank(a) - okRank(b) })

	title := opts.Title
	if title == "" {
		title = "stallproof"
	}
	failing := 0
	for _, r := range rows {
		if !r.OK() {
			failing++
		}
	}
	var b strings.Builder
	switch {
	case failing == 0 && len(s.Failures) == 0 && len(rows) > 0:
		fmt.Fprintf(&b, "## %s: every property held (%d)\n\n", title, len(rows))
	case failing == 0 && len(s.Failures) == 0:
		fmt.Fprintf(&b, "## %s: no property verdicts found\n\n%d tests passed, %d failed.\n\n", title, s.Passed, s.Failed)
	default:
		fmt.Fprintf(&b, "## %s: %d of %d property verdicts not as expected", title, failing, len(rows))
		if len(s.Failures) > 0 {
			fmt.Fprintf(&b, ", %d other failing tests", len(s.Failures))
		}
		b.WriteString("\n\n")
	}
	if len(rows) > 0 {
		b.WriteString("| test | property | verdict | checks | violation, or why skipped | timeline |\n")
		b.WriteString("| --- | --- | --- | ---: | --- | --- |\n")
		for _, r := range collapseNotRun(rows) {
			test := cell(r.Test)
			if r.Package != "" {
				test = "`" + path.Base(r.Package) + "` " + test
			}
			checks := ""
			if r.Checks > 0 {
				checks = fmt.Sprint(r.Checks)
			}
			if len(r.Shards) > 1 {
				checks += fmt.Sprintf(" (%d shards)", len(r.Shards))
			} else if len(r.Shards) == 1 {
				checks += " (shard " + r.Shards[0] + ")"
			}
			text := r.Violation
			if r.Result == report.Skip {
				text = r.Why
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", test, cell(r.Property), verdictCell(r), checks,
				cell(truncate(text, 300)), timelineCell(r, reports, opts))
		}
		b.WriteString("\n")
	}
	if len(s.Failures) > 0 {
		b.WriteString("### Failing tests without a property verdict\n\n")
		for _, f := range s.Failures {
			name := f.Test
			if name == "" {
				name = "(package: build error or TestMain)"
			}
			fmt.Fprintf(&b, "<details><summary><code>%s</code> %s</summary>\n\n```\n%s\n```\n\n</details>\n\n",
				htmlEscape(path.Base(f.Package)), htmlEscape(name), strings.ReplaceAll(f.Output, "```", "'''"))
		}
	}
	if all := slices.Concat(s.Problems, problems); len(all) > 0 {
		b.WriteString("### Problems reading the results\n\n")
		for _, p := range all {
			fmt.Fprintf(&b, "- %s\n", cell(p))
		}
		b.WriteString("\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// okRank sorts the rows that are not as expected first.
func okRank(r Row) int {
	if r.OK() {
		return 1
	}
	return 0
}

func verdictCell(r Row) string {
	switch {
	case r.Expect == report.Fail && r.Result == report.Fail:
		return "✅ FAIL (caught, as expected)"
	case r.Expect != "" && !r.OK():
		return fmt.Sprintf("❌ %s (expected %s)", r.Result, r.Expect)
	case r.Result == report.Fail:
		return "❌ FAIL"
	case r.Result == report.Pass:
		return "✅ PASS"
	}
	return "⏭ " + r.Result
}

// timelineCell names the row's timeline: its path in the uploaded
// artifact, with a link there; or, with no artifact (a local run), its
// path on disk, to open.
func timelineCell(r Row, reports []*found, opts Options) string {
	if r.Report == "" || !slices.ContainsFunc(reports, func(f *found) bool { return f.name == r.Report }) {
		return ""
	}
	if opts.ArtifactURL == "" {
		return "`" + cell(filepath.ToSlash(filepath.Join(opts.ReportDir, filepath.FromSlash(r.Report), report.TimelineFile))) + "`"
	}
	return fmt.Sprintf("[timeline](%s) `%s`", opts.ArtifactURL, cell(r.Report+"/"+report.TimelineFile))
}

// notRunPrefix starts the violation of a property that was not run
// because an earlier one found the server stopped answering.
const notRunPrefix = "not run: "

// collapseNotRun makes the rows of one test that were not run for the
// same cause one row, listing their properties, which names the cause
// once: as the failing row of the property that found it, when the table
// has it ("see progress"), or else in full.
func collapseNotRun(rows []Row) []Row {
	var out []Row
	at := map[string]int{} // package, test's parent, violation → index in out
	for _, r := range rows {
		if r.Result != report.Fail || !strings.HasPrefix(r.Violation, notRunPrefix) {
			out = append(out, r)
			continue
		}
		key := r.Package + "\x00" + parent(r.Test) + "\x00" + r.Violation
		if i, ok := at[key]; ok {
			out[i].Property += ", " + r.Property
			out[i].Checks += r.Checks
			continue
		}
		at[key] = len(out)
		r.Violation = notRunCause(r, rows)
		r.Test = parent(r.Test)
		out = append(out, r)
	}
	return out
}

// notRunCause is the violation of a row that was not run, said short when
// the cause has its own row: "not run: the server stopped answering (see
// progress)".
func notRunCause(r Row, rows []Row) string {
	const seen = "(seen while checking "
	i := strings.LastIndex(r.Violation, seen)
	if i < 0 {
		return r.Violation
	}
	by, _, ok := strings.Cut(r.Violation[i+len(seen):], ")")
	if !ok || !slices.ContainsFunc(rows, func(o Row) bool {
		return o.Package == r.Package && parent(o.Test) == parent(r.Test) && o.Property == by && o.Result == report.Fail
	}) {
		return r.Violation
	}
	what, _, _ := strings.Cut(strings.TrimPrefix(r.Violation, notRunPrefix), ":")
	return fmt.Sprintf("%s%s: see %s, which found it; RunAll() runs every property regardless", notRunPrefix, what, by)
}

// cell makes text safe in a Markdown table cell, on one line.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	return htmlEscape(s)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
