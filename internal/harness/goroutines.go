package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"runtime/pprof"
	"strconv"
	"strings"
)

// Goroutines are goroutines that share a stack.
type Goroutines struct {
	Count int
	// Stack is the innermost frames' functions, innermost first, without
	// the runtime's own.
	Stack []string
}

// maxFrames is how many frames a Goroutines keeps.
const maxFrames = 4

// GoroutinesByLabel counts the process's goroutines by the value of the
// profiler label key. A goroutine started by a timer (time.AfterFunc)
// carries no label; such goroutines are short-lived.
func GoroutinesByLabel(key string) map[string]int {
	out := map[string]int{}
	for _, r := range profile() {
		if v, ok := r.labels[key]; ok {
			out[v] += r.count
		}
	}
	return out
}

// Stacks returns the goroutines labelled key=value, grouped by stack.
func Stacks(key, value string) []Goroutines {
	var out []Goroutines
	for _, r := range profile() {
		if r.labels[key] == value {
			out = append(out, Goroutines{Count: r.count, Stack: r.stack})
		}
	}
	return out
}

type record struct {
	count  int
	labels map[string]string
	stack  []string
}

// profile reads the goroutine profile's text form (debug=1): records of
// "<count> @ <pcs>", then "# labels: {...}" when the goroutines carry
// labels, then a "#\t<pc>\t<func>+<off>\t<file:line>" line per frame.
func profile() []record {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	return parseProfile(&buf)
}

func parseProfile(r io.Reader) []record {
	var out []record
	var cur *record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if count, _, ok := strings.Cut(line, " @ "); ok {
			n, err := strconv.Atoi(count)
			if err != nil {
				cur = nil
				continue
			}
			out = append(out, record{count: n})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			continue
		}
		if js, ok := strings.CutPrefix(line, "# labels: "); ok {
			_ = json.Unmarshal([]byte(js), &cur.labels)
			continue
		}
		if frame, ok := strings.CutPrefix(line, "#\t"); ok && len(cur.stack) < maxFrames {
			f := strings.Split(frame, "\t")
			if len(f) < 2 {
				continue
			}
			fn, _, _ := strings.Cut(f[1], "+0x")
			if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "sync.runtime_") {
				continue
			}
			cur.stack = append(cur.stack, fn)
		}
	}
	return out
}
