package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// File names WriteDir writes in its directory.
const (
	JSONFile     = "report.json"
	TimelineFile = "timeline.svg"
	ReadmeFile   = "README.md"
)

// WriteDir writes the report into dir, creating it if needed:
//
//   - report.json, the report in the documented schema ([Report.MarshalJSON]);
//   - timeline.svg, its timeline ([Report.WriteTimeline]);
//   - README.md, the property, the violation, the replay command and the
//     list of files;
//   - if failFile is not "", a copy of rapid's fail file under its own
//     name, with the replay command added as a comment at its top (rapid
//     skips lines starting with '#', so the copy still replays).
//
// Files already in dir with those names are replaced.
func (r *Report) WriteDir(dir string, failFile string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encoding %s: %w", JSONFile, err)
	}
	var svg bytes.Buffer
	if err := r.WriteTimeline(&svg); err != nil {
		return fmt.Errorf("report: drawing %s: %w", TimelineFile, err)
	}
	type file struct {
		name string
		data []byte
	}
	files := []file{{JSONFile, append(js, '\n')}, {TimelineFile, svg.Bytes()}}
	copyName := ""
	if failFile != "" {
		data, err := os.ReadFile(failFile)
		if err != nil {
			return fmt.Errorf("report: copying the fail file: %w", err)
		}
		copyName = filepath.Base(failFile)
		files = append(files, file{copyName, append(r.failHeader(copyName), data...)})
	}
	files = append(files, file{ReadmeFile, r.readme(copyName)})
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// failHeader is the comment put at the top of the fail file's copy.
func (r *Report) failHeader(name string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# stallproof: property %q failed: %s\n", r.Property, firstLine(r.Violation))
	if r.Replay != "" {
		fmt.Fprintf(&b, "# replay: %s\n", r.Replay)
	}
	fmt.Fprintf(&b, "# or replay this copy: add -rapid.failfile=PATH/%s to the go test command\n", name)
	return []byte(b.String())
}

func (r *Report) readme(failCopy string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# stallproof: %s failed\n\n", r.Property)
	fmt.Fprintf(&b, "%s\n\n", r.Violation)
	if r.Replay != "" {
		fmt.Fprintf(&b, "Replay it (from the package's directory):\n\n    %s\n\n", r.Replay)
	}
	b.WriteString("Files:\n\n")
	fmt.Fprintf(&b, "- `%s`: the report (schema version %d, docs/report.schema.json)\n", JSONFile, max(r.Version, Version))
	fmt.Fprintf(&b, "- `%s`: one lane per client, faults shaded, the violation as a red line\n", TimelineFile)
	if failCopy != "" {
		fmt.Fprintf(&b, "- `%s`: rapid's fail file; `-rapid.failfile=` this copy replays the shrunk case\n", failCopy)
	}
	return []byte(b.String())
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// DirFor returns the directory under base for the report of the test
// named name (a t.Name() such as "TestReference/progress"): the name with
// every character other than a letter, digit, '-', '_' or '.' replaced by
// '_', so each test's report has a directory of its own.
func DirFor(base, name string) string {
	safe := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
	if safe == "" || strings.Trim(safe, ".") == "" {
		safe = "_"
	}
	return filepath.Join(base, safe)
}

// FailFile returns the newest fail file that rapid wrote for the test
// named name in this process, or "" if there is none: rapid saves it as
// testdata/rapid/<name>/<name>-<time>-<pid>.fail under the working
// directory (the package's, under go test), with the name's characters
// other than letters, digits, '-' and '_' replaced by '_'. Call it after
// rapid's check has returned, from the test's t.Cleanup say.
func FailFile(name string) string {
	safe := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
	pattern := filepath.Join("testdata", "rapid", safe, safe+"-*-"+fmt.Sprint(os.Getpid())+".fail")
	matches, _ := filepath.Glob(pattern) // the pattern is well formed
	if len(matches) == 0 {
		return ""
	}
	slices.Sort(matches) // the time stamp sorts as text
	return matches[len(matches)-1]
}
