package properties

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// goroutine is one goroutine in a runtime.Stack dump.
type goroutine struct {
	id    string
	state string   // "chan receive", "sync.Mutex.Lock", "IO wait", ...
	funcs []string // innermost first
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
	var gs []goroutine
	for _, block := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		head, ok := strings.CutPrefix(lines[0], "goroutine ")
		if !ok {
			continue
		}
		id, state, _ := strings.Cut(head, " ")
		state = strings.TrimSuffix(strings.TrimPrefix(state, "["), "]:")
		if i := strings.Index(state, ","); i >= 0 {
			state = state[:i] // drop ", 2 minutes"
		}
		g := goroutine{id: id, state: state}
		for i := 1; i < len(lines); i += 2 {
			fn := lines[i]
			if j := strings.LastIndex(fn, "("); j > 0 {
				fn = fn[:j]
			}
			g.funcs = append(g.funcs, strings.TrimPrefix(fn, "created by "))
		}
		gs = append(gs, g)
	}
	return gs
}

func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range allGoroutines() {
		ids[g.id] = true
	}
	return ids
}

const harnessPkg = "github.com/stallproof/stallproof/properties."

// serverStacks summarises the goroutines that started after baseline and
// are not the harness's own: where the server's goroutines are stuck,
// grouped ("7 × [sync.Mutex.Lock] main.(*srv).vote ← ..."), so a report
// shows at a glance one goroutine in Write and the rest waiting for its lock.
func serverStacks(baseline map[string]bool) string {
	groups := map[string]int{}
	var order []string
	for _, g := range allGoroutines() {
		if baseline[g.id] || len(g.funcs) == 0 || isHarness(g) {
			continue
		}
		key := fmt.Sprintf("[%s] %s", g.state, strings.Join(trimFrames(g.funcs), " ← "))
		if groups[key] == 0 {
			order = append(order, key)
		}
		groups[key]++
	}
	slices.SortStableFunc(order, func(a, b string) int { return groups[b] - groups[a] })
	var b strings.Builder
	for _, k := range order {
		fmt.Fprintf(&b, "  %3d × %s\n", groups[k], k)
	}
	return b.String()
}

// isHarness reports whether g is one of the harness's goroutines (client
// readers, parallel voters), as opposed to the server's. The goroutine that
// runs Serve belongs to the server.
func isHarness(g goroutine) bool {
	for _, f := range g.funcs {
		if strings.HasPrefix(f, harnessPkg) {
			return !strings.Contains(f, "newEnv")
		}
	}
	return strings.HasPrefix(g.funcs[len(g.funcs)-1], "testing.")
}

// trimFrames keeps the frames worth reading: runtime internals dropped, at
// most five, and always the innermost frame of the server's own code (not
// the standard library's, faultnet's or this harness's), even when it lies
// deeper: "bufio.(*Writer).Flush" says less than the Publish that called it.
func trimFrames(fs []string) []string {
	var out []string
	user := false
	for _, f := range fs {
		if strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "internal/") {
			continue
		}
		if len(out) < 5 {
			out = append(out, f)
			user = user || isUserFrame(f)
			continue
		}
		if !user && isUserFrame(f) {
			out = append(out, "...", f)
			break
		}
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
		!strings.HasPrefix(f, harnessPkg)
}
