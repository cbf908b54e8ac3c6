// Package stacks reads the goroutine dump of the running program and
// summarises the server's goroutines for a failure report: where they are
// stuck, grouped, with the server's own frames kept. Imported by package
// properties only; imports only the standard library, properties/report
// and internal/harness (for the profiler label keys).
package stacks

import (
	"context"
	"fmt"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties/report"
)

// goroutine is one goroutine in a runtime.Stack dump.
type goroutine struct {
	id      string
	state   string            // "chan receive", "sync.Mutex.Lock", "IO wait", ...
	bubble  int64             // its testing/synctest bubble; 0 if none
	labels  map[string]string // its profiler labels, when tracebacks show them (ShowLabels)
	parent  string            // the goroutine that started it ("created by … in goroutine N"); "" if the runtime did
	starter string            // the function that started it ("created by" that function)
	frames  []report.Frame    // innermost first; the last may be its "created by"
	text    string            // its block of the dump, as the runtime wrote it
}

func allGoroutines() []goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return parseStacks(string(buf))
}

// Parse reads the goroutines of a goroutine dump, or of blocks of one:
// their IDs, starters and blocks.
func Parse(dump string) []Goroutine {
	var out []Goroutine
	for _, g := range parseStacks(dump) {
		out = append(out, Goroutine{ID: g.id, Parent: g.parent, Text: g.text})
	}
	return out
}

// parseStacks reads a runtime.Stack dump of every goroutine.
func parseStacks(dump string) []goroutine {
	var gs []goroutine
	for _, block := range strings.Split(dump, "\n\n") {
		block = strings.TrimSpace(block)
		lines := strings.Split(block, "\n")
		g, ok := parseHeader(lines[0])
		if !ok {
			continue
		}
		g.text = block
		for i := 1; i < len(lines); i += 2 {
			fn, created := strings.CutPrefix(lines[i], "created by ")
			if j := strings.Index(fn, " in goroutine "); j > 0 {
				if created {
					g.parent = fn[j+len(" in goroutine "):]
				}
				fn = fn[:j]
			}
			if created {
				g.starter = fn
			}
			if j := strings.LastIndex(fn, "("); j > 0 && strings.HasSuffix(fn, ")") {
				fn = fn[:j] // the arguments
			}
			f := report.Frame{Func: fn}
			if i+1 < len(lines) {
				f.File, f.Line = fileLine(lines[i+1])
			}
			g.frames = append(g.frames, f)
		}
		gs = append(gs, g)
	}
	return gs
}

// parseHeader reads a goroutine's header, "goroutine 7 [sync.Mutex.Lock,
// 2 minutes, synctest bubble 3 labels:{"k": "v"}]:": its id, its state
// ("sync.Mutex.Lock"; "sync.Cond.Wait (durable)" in a bubble), its
// bubble's id and its labels (shown only under ShowLabels).
func parseHeader(line string) (goroutine, bool) {
	head, ok := strings.CutPrefix(line, "goroutine ")
	if !ok {
		return goroutine{}, false
	}
	id, rest, _ := strings.Cut(head, " ")
	rest = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]:")
	inside, labels, _ := strings.Cut(rest, " labels:{")
	parts := strings.Split(inside, ", ")
	g := goroutine{id: id, state: parts[0], labels: parseLabels(strings.TrimSuffix(labels, "}"))}
	for _, p := range parts[1:] {
		if n, ok := strings.CutPrefix(p, "synctest bubble "); ok {
			g.bubble, _ = strconv.ParseInt(n, 10, 64)
		}
	}
	return g, true
}

// parseLabels reads `"k": "v", "k2": "v2"`, each string quoted as Go
// quotes it; nil for "".
func parseLabels(s string) map[string]string {
	var out map[string]string
	for s != "" {
		k, rest, ok := unquotePrefix(s)
		if !ok {
			return out
		}
		rest, ok = strings.CutPrefix(rest, ": ")
		if !ok {
			return out
		}
		v, rest, ok := unquotePrefix(rest)
		if !ok {
			return out
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
		s = strings.TrimPrefix(rest, ", ")
	}
	return out
}

// unquotePrefix reads the quoted string at the start of s.
func unquotePrefix(s string) (v, rest string, ok bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, false
	}
	v, err = strconv.Unquote(q)
	return v, s[len(q):], err == nil
}

// ShowLabels makes the process's goroutine dumps show each goroutine's
// profiler labels (GODEBUG tracebacklabels=1, Go 1.26), so that the
// functions of this package can tell whose a goroutine is, until restore
// is called. A GODEBUG that already sets tracebacklabels is kept. shown
// reports whether dumps do show labels: not before Go 1.26, nor under
// tracebacklabels=0.
func ShowLabels() (restore func(), shown bool) {
	restore = func() {}
	old, set := os.LookupEnv("GODEBUG")
	if !strings.Contains(old, "tracebacklabels=") {
		_ = os.Setenv("GODEBUG", strings.TrimPrefix(old+",tracebacklabels=1", ","))
		restore = func() {
			if set {
				_ = os.Setenv("GODEBUG", old)
			} else {
				_ = os.Unsetenv("GODEBUG")
			}
		}
	}
	return restore, labelsShown()
}

// labelsShown reports whether a goroutine's labels show in a dump.
func labelsShown() bool {
	const key, value = "stallproof-probe", "shown"
	stop, ready := make(chan struct{}), make(chan string, 1)
	pprof.Do(context.Background(), pprof.Labels(key, value), func(context.Context) {
		go func() {
			buf := make([]byte, 256)
			ready <- string(buf[:runtime.Stack(buf, false)])
			<-stop
		}()
	})
	header, _, _ := strings.Cut(<-ready, "\n")
	close(stop)
	g, _ := parseHeader(header)
	return g.labels[key] == value
}

// BubbleGoroutine is one goroutine of a testing/synctest bubble.
type BubbleGoroutine struct {
	ID    string
	State string // "running", "sync.Mutex.Lock", "chan receive (durable)", ...
	Func  string // the function it is in
}

// Bubble returns the goroutines of the synctest bubble with the given id.
func Bubble(id int64) []BubbleGoroutine {
	var out []BubbleGoroutine
	for _, g := range allGoroutines() {
		if g.bubble != id {
			continue
		}
		b := BubbleGoroutine{ID: g.id, State: g.state}
		if len(g.frames) > 0 {
			b.Func = g.frames[0].Func
		}
		out = append(out, b)
	}
	return out
}

// OwnBubble returns the id of the calling goroutine's synctest bubble, or
// 0 outside any.
func OwnBubble() int64 { return self().bubble }

// self is the calling goroutine, as its dump's header says.
func self() goroutine {
	buf := make([]byte, 256)
	header, _, _ := strings.Cut(string(buf[:runtime.Stack(buf, false)]), "\n")
	g, _ := parseHeader(header)
	return g
}

// fileLine reads "\t/src/pkg/file.go:123 +0x1d" as "file.go", 123.
func fileLine(s string) (string, int) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, " +0x"); i > 0 {
		s = s[:i]
	}
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", 0
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0
	}
	return path.Base(s[:i]), n
}

// IDs returns the IDs of every goroutine now running: a baseline for
// Server.
func IDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range allGoroutines() {
		ids[g.id] = true
	}
	return ids
}

// Harness is the prefix of the suite's engine's functions: goroutines
// running them are the suite's, not the server's.
const Harness = "github.com/stallproof/stallproof/properties."

// Server summarises the goroutines that started after baseline and
// are not the harness's own: where the server's goroutines are stuck,
// grouped ("7 × [sync.Mutex.Lock] main.(*srv).vote (srv.go:41) ← ..."),
// so a report shows at a glance one goroutine in Write and the rest
// waiting for its lock. Only the goroutines that may be owner's count
// (see Owner). It returns the groups, most goroutines first, and the same
// as text.
func Server(baseline map[string]bool, owner Owner) ([]report.Stack, string) {
	return groupStacks(allGoroutines(), baseline, owner, ownModule())
}

// Goroutine is one goroutine of a dump.
type Goroutine struct {
	ID     string
	Parent string // the goroutine that started it; "" if the runtime did
	Text   string // its block of the dump: header and stack
	Doubt  Doubt  // why it might not be the server's after all
}

// Since returns the goroutines that started after baseline and may be
// owner's (see Owner), in the order of the dump.
func Since(baseline map[string]bool, owner Owner) []Goroutine {
	var out []Goroutine
	gs := allGoroutines()
	server := mayBeServer(gs, baseline, owner)
	for _, g := range gs {
		if doubt, ok := server[g.id]; ok {
			out = append(out, Goroutine{ID: g.id, Parent: g.parent, Text: g.text, Doubt: doubt})
		}
	}
	return out
}

// AnyServer is the Label of an Owner for the goroutines of any server, but
// not those labelled as a client's.
const AnyServer = "*"

// Owner says whose goroutines Since and Server look for: a server's, told
// by the profiler label that the suite put on its Serve call
// (harness.ServerLabel), which every goroutine it starts inherits.
type Owner struct {
	// Label is the server's label; AnyServer for any server's; "" when
	// labels cannot be seen (or the suite did not start the server): then
	// every goroutine that is not the harness's counts.
	Label string
	// Test is the ID of the goroutine of the test that called Run, or "":
	// a goroutine it started, however indirectly, before the check (a hub
	// to which Serve hands work) is the server's.
	Test string
	// Live reports whether a server label is that of a Serve call that
	// still ran when the check began; nil: every one is. A goroutine
	// labelled with an earlier, ended call's label outlived its Serve: it
	// counts as the server's, wherever it started (a hub that an earlier
	// call started lazily).
	Live func(label string) bool
}

// labelled reports whether a goroutine labelled with server label l is
// owner's: its own label, any under AnyServer, or an ended call's.
func (o Owner) labelled(l string) bool {
	return o.Label == AnyServer || l == o.Label || (o.Live != nil && !o.Live(l))
}

// SelfID returns the ID of the calling goroutine.
func SelfID() string { return self().id }

// mayBeServer returns the goroutines of gs (by id) that started after
// baseline, are not the harness's, and may be owner's: those that carry
// its label (see Owner.labelled), and those that carry none whose starter
// may be the server's too.
//
// Without a label, a goroutine was started by the runtime's timers
// (time.AfterFunc, which may be the server's), or by a goroutine without
// one. That may be the server's own from before the check: a hub or
// dispatcher that the test calling Run, or an init function, started, to
// which Serve hands work. Or it may be another test's, or a fixture's
// that other tests use, whose goroutines are not the server's. So an
// unlabelled goroutine is the server's if it was started by a timer, by
// the runtime, by a goroutine that is the server's, by one that has ended
// (it cannot be told: counted, as a leak check must), or by one of the
// baseline that owner.Test, or the main goroutine, started, however
// indirectly (see hubs). Not by another goroutine of the baseline (another
// test's, a parent test's fixture), nor by a live one that is not the
// server's. The main goroutine runs the init functions and TestMain alike:
// a fixture that TestMain started, which other tests use while a Run
// checks, counts; IgnoreGoroutines is the way out.
//
// A goroutine labelled as a client's is not a server's. With Label ""
// (labels unknown, or a server the suite did not start), labels and
// starters are not looked at.
func mayBeServer(gs []goroutine, baseline map[string]bool, owner Owner) map[string]Doubt {
	byID := make(map[string]goroutine, len(gs))
	for _, g := range gs {
		byID[g.id] = g
	}
	hub := hubs(owner.Test, byID)
	type verdict struct {
		server bool
		doubt  Doubt
	}
	memo := map[string]verdict{}
	var server func(g goroutine, depth int) verdict
	server = func(g goroutine, depth int) verdict {
		if v, ok := memo[g.id]; ok {
			return v
		}
		var v verdict
		switch _, client := g.labels[harness.ClientLabel]; {
		case baseline[g.id] || len(g.frames) == 0 || isHarness(g):
		case owner.Label == "":
			v.server = true
		case client:
		default:
			if l, ok := g.labels[harness.ServerLabel]; ok {
				v.server = owner.labelled(l)
				break
			}
			parent, live := byID[g.parent]
			switch {
			case g.parent == "" || g.starter == "time.goFunc" || depth > len(gs):
				v.server = true // the runtime's, a timer's (whoever ran it)
			case !live:
				v = verdict{true, StarterEnded} // it cannot be told
			case baseline[g.parent]:
				v.server, v.doubt = hub(g.parent)
			default:
				v = server(parent, depth+1)
			}
		}
		memo[g.id] = v
		return v
	}
	out := map[string]Doubt{}
	for _, g := range gs {
		if v := server(g, 0); v.server {
			out[g.id] = v.doubt
		}
	}
	return out
}

// Doubt says why a goroutine that counts as a server's might not be:
// "" (Sure) if it is told by its label, a timer, or the test calling Run.
type Doubt string

// Doubts.
const (
	Sure Doubt = ""
	// ByMain: it descends from a goroutine that the main goroutine
	// started, which an init function (a server's hub) and TestMain (a
	// fixture that other tests use) do alike.
	ByMain Doubt = "main"
	// StarterEnded: it descends from a goroutine that has ended, which
	// a server's timer and another test's client library leave alike.
	StarterEnded Doubt = "ended"
)

// hubs returns whether a goroutine (by id) of the baseline may be a
// server's hub: its line of live starters reaches the test (by id), or
// the program's main goroutine (an init function's, or TestMain's: ByMain),
// before any other test's goroutine. One whose starter has ended cannot
// be told: it is not counted.
func hubs(test string, byID map[string]goroutine) func(id string) (bool, Doubt) {
	return func(id string) (bool, Doubt) {
		for range len(byID) + 1 {
			if id != "" && id == test {
				return true, Sure
			}
			g, ok := byID[id]
			switch {
			case !ok:
				return false, Sure // its starter has ended
			case g.parent == "" && g.starter == "":
				return true, ByMain // the main goroutine: init functions, TestMain (it runs the tests' root too)
			case runsTest(g):
				return false, Sure // another test's, or a parent test's
			}
			id = g.parent
		}
		return false, Sure
	}
}

// runsTest reports whether g is a test's goroutine.
func runsTest(g goroutine) bool {
	return slices.ContainsFunc(g.frames, func(f report.Frame) bool { return f.Func == "testing.tRunner" })
}

func groupStacks(gs []goroutine, baseline map[string]bool, owner Owner, own string) ([]report.Stack, string) {
	index := map[string]int{}
	var groups []report.Stack
	var keys []string
	server := mayBeServer(gs, baseline, owner)
	for _, g := range gs {
		if _, ok := server[g.id]; !ok {
			continue
		}
		fs := trimFrames(g.frames, own)
		key := fmt.Sprintf("[%s] %s", g.state, formatFrames(fs))
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, report.Stack{State: g.state, Frames: fs})
			keys = append(keys, key)
		}
		groups[i].Count++
	}
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return groups[b].Count - groups[a].Count })
	var b strings.Builder
	sorted := make([]report.Stack, 0, len(groups))
	for _, i := range order {
		sorted = append(sorted, groups[i])
		fmt.Fprintf(&b, "  %3d × %s\n", groups[i].Count, keys[i])
	}
	return sorted, b.String()
}

// formatFrames is "f (file.go:12) ← g (file.go:30)", with "..." for the
// frames left out.
func formatFrames(fs []report.Frame) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, " ← ")
}

// isHarness reports whether g is one of the harness's goroutines (client
// readers, parallel voters), as opposed to the server's. The goroutine that
// runs Serve belongs to the server.
func isHarness(g goroutine) bool {
	for _, f := range g.frames {
		if strings.HasPrefix(f.Func, Harness) {
			return !strings.Contains(f.Func, "newEnv")
		}
	}
	return strings.HasPrefix(g.frames[len(g.frames)-1].Func, "testing.")
}

// trimFrames keeps the frames worth reading: runtime internals dropped, at
// most five, and always the innermost frame of the server's own module
// (own; without it, of any module but faultnet's and this harness's) with
// the frame it called, even when they lie deeper: "bufio.(*Writer).Flush"
// says less than the Publish that called it, and a library's Write says
// less than the handler's line that called it.
func trimFrames(fs []report.Frame, own string) []report.Frame {
	var kept []report.Frame
	for _, f := range fs {
		if !strings.HasPrefix(f.Func, "runtime.") && !strings.HasPrefix(f.Func, "internal/") && !strings.HasPrefix(f.Func, "sync.runtime_") {
			kept = append(kept, f)
		}
	}
	const innermost = 5
	if len(kept) <= innermost {
		return kept
	}
	server := slices.IndexFunc(kept, func(f report.Frame) bool { return isOwnFrame(f.Func, own) })
	if server < 0 {
		server = slices.IndexFunc(kept, func(f report.Frame) bool { return isUserFrame(f.Func) })
	}
	out := slices.Clone(kept[:innermost])
	switch {
	case server < innermost:
	case server == innermost:
		out = append(out, kept[server])
	case server == innermost+1:
		out = append(out, kept[server-1], kept[server])
	default:
		out = append(out, report.Frame{Func: "..."}, kept[server-1], kept[server])
	}
	return out
}

// isUserFrame reports whether a function belongs to the server's code: a
// package path whose first element has a dot (a module path) or package
// main, and not faultnet or this harness.
func isUserFrame(f string) bool {
	if strings.HasPrefix(f, "main.") {
		return true
	}
	first, _, ok := strings.Cut(f, "/")
	return ok && strings.Contains(first, ".") &&
		!strings.HasPrefix(f, "github.com/stallproof/stallproof/faultnet.") &&
		!strings.HasPrefix(f, Harness)
}

// isOwnFrame reports whether a function belongs to module own (the module
// whose tests run the suite: the server's) or package main, and is not
// faultnet or this harness.
func isOwnFrame(f, own string) bool {
	if strings.HasPrefix(f, "main.") {
		return true
	}
	if own == "" || !(strings.HasPrefix(f, own+".") || strings.HasPrefix(f, own+"/")) {
		return false
	}
	return !strings.HasPrefix(f, "github.com/stallproof/stallproof/faultnet.") && !strings.HasPrefix(f, Harness)
}

// ownModule is the main module of this binary: under go test, the module
// of the package being tested, whose server the suite checks.
var ownModule = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Path
	}
	return ""
})
