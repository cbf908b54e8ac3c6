package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"runtime/pprof"
	"strconv"
	"strings"
)

// Goroutines are attributed to designs with profiler labels: each design's
// Serve runs under pprof.Do with the label designLabel=<name>, and every
// goroutine a goroutine starts inherits its labels, so the goroutine
// profile counts each design's goroutines exactly (the load's client
// goroutines carry loadLabel instead). A goroutine started by a timer
// (time.AfterFunc) carries no label; such goroutines are short-lived.
const (
	designLabel = "stallproof-design"
	loadLabel   = "stallproof-load"
)

// labelled runs f under the label key=value.
func labelled(key, value string, f func()) {
	pprof.Do(context.Background(), pprof.Labels(key, value), func(context.Context) { f() })
}

// goroutinesByLabel counts the process's goroutines by the value of the
// label key, from the goroutine profile's text form (debug=1), in which
// each record is "<count> @ <pcs>" followed by "# labels: {...}" when the
// goroutines carry labels.
func goroutinesByLabel(key string) map[string]int {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	return countLabels(&buf, key)
}

func countLabels(r *bytes.Buffer, key string) map[string]int {
	out := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if count, _, ok := strings.Cut(line, " @ "); ok {
			n, _ = strconv.Atoi(count)
			continue
		}
		js, ok := strings.CutPrefix(line, "# labels: ")
		if !ok {
			continue
		}
		var labels map[string]string
		if json.Unmarshal([]byte(js), &labels) != nil {
			continue
		}
		if v, ok := labels[key]; ok {
			out[v] += n
		}
	}
	return out
}
