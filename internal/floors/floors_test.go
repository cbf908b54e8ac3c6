package floors_test

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// floors lists the module's floors, lowest first, each as the directories
// (relative to the module root) whose packages stand on it. A directory
// names every package under it.
var floors = [][]string{
	{"faultnet", "wire", "server"},
	{"internal"},
	{"properties"},
	{"protocols"},
	{"cmd"},
}

// floorOf returns the floor of the package at rel, a path relative to the
// module root, or -1 if it is on none.
func floorOf(rel string) int {
	for i, dirs := range floors {
		for _, d := range dirs {
			if rel == d || strings.HasPrefix(rel, d+"/") {
				return i
			}
		}
	}
	return -1
}

// check returns every way graph breaks the floors. graph maps each
// package of module (by its path relative to the module root) to its
// non-test imports (full import paths).
func check(module string, graph map[string][]string) []string {
	var bad []string
	for _, pkg := range slices.Sorted(maps.Keys(graph)) {
		from := floorOf(pkg)
		if from < 0 {
			bad = append(bad, fmt.Sprintf("%s is on no floor: give its directory one in floors", pkg))
			continue
		}
		for _, imp := range graph[pkg] {
			rel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				if from == 0 && isThirdParty(imp) {
					bad = append(bad, fmt.Sprintf("%s (floor 0) imports %s: floor 0 imports only the standard library", pkg, imp))
				}
				continue
			}
			if to := floorOf(rel); to > from {
				bad = append(bad, fmt.Sprintf("%s (floor %d) imports %s (floor %d): an arrow runs up", pkg, from, rel, to))
			}
		}
	}
	return bad
}

// isThirdParty reports whether imp is outside the standard library, whose
// import paths have no dot in their first element.
func isThirdParty(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return strings.Contains(first, ".")
}

// TestCheck shows check catching each kind of break, so that TestFloors
// passing means something.
func TestCheck(t *testing.T) {
	const mod = "example.com/m"
	for _, tc := range []struct {
		name  string
		graph map[string][]string
		want  int
	}{
		{"down and sideways", map[string][]string{
			"cmd/x":            {mod + "/protocols", mod + "/cmd/x/internal/y", "fmt"},
			"cmd/x/internal/y": {mod + "/properties", mod + "/internal/a"},
			"protocols":        {mod + "/properties"},
			"properties":       {mod + "/internal/a", mod + "/faultnet", "pgregory.net/rapid"},
			"internal/a":       {mod + "/internal/b", mod + "/wire"},
			"server":           {mod + "/wire", "net"},
		}, 0},
		{"internal imports properties", map[string][]string{
			"internal/a": {mod + "/properties"},
		}, 1},
		{"properties imports the binary's part", map[string][]string{
			"properties": {mod + "/cmd/x/internal/y", mod + "/protocols"},
		}, 2},
		{"floor 0 imports a module", map[string][]string{
			"faultnet": {"golang.org/x/net/ipv4"},
		}, 1},
		{"floor 0 imports internal", map[string][]string{
			"server": {mod + "/internal/a"},
		}, 1},
		{"a directory on no floor", map[string][]string{
			"tools2": {"fmt"},
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := check(mod, tc.graph); len(got) != tc.want {
				t.Errorf("check found %d breaks, want %d: %q", len(got), tc.want, got)
			}
		})
	}
}

// TestFloors checks every package of the module, as its source stands
// (every file, whatever its build constraints), against the floors.
func TestFloors(t *testing.T) {
	root, module := moduleRoot(t)
	graph := imports(t, root, module)
	for _, must := range []string{"faultnet", "properties", "internal/harness", "cmd/stallproof", "cmd/stallproof/internal/chaos"} {
		if _, ok := graph[must]; !ok {
			t.Fatalf("package %s not found under %s: the walk is broken (found %d packages)", must, root, len(graph))
		}
	}
	for _, b := range check(module, graph) {
		t.Error(b)
	}
}

// moduleRoot returns the directory of the go.mod above the test's working
// directory and the module path it declares.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			s := bufio.NewScanner(f)
			for s.Scan() {
				if m, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(m), `"`)
				}
			}
			t.Fatalf("%s/go.mod declares no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// imports reads the non-test imports of every package under root, leaving
// out directories Go leaves out (testdata, names starting with . or _) and
// other modules (a directory with its own go.mod).
func imports(t *testing.T, root, module string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(graph[rel], imp) {
				graph[rel] = append(graph[rel], imp)
			}
		}
		if _, ok := graph[rel]; !ok {
			graph[rel] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}
