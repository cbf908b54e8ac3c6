package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChaosSmoke runs "stallproof chaos" for a few seconds on the
// in-memory network with small buffers: the reference must be LIVE and
// lock-across-write FROZEN, and -out must write the JSON and the chart.
// Bounds are generous: lock-across-write freezes within a few dozen votes
// of the stall (1 KiB buffers), and the reference counts as LIVE unless a
// healthy client waits over 4 s or its votes/s halve.
func TestChaosSmoke(t *testing.T) {
	dir := t.TempDir()
	var code int
	out, errs := capture(t, func() {
		code = run(context.Background(), []string{"chaos",
			"-designs", "reference,lock-across-write",
			"-n", "10", "-k", "2", "-faults", "stall,trickle",
			"-fault-at", "2s", "-fault-every", "100ms",
			"-duration", "8s", "-rate", "20", "-buffer", "1024", "-stuck-after", "4s",
			"-out", dir})
	})
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	verdict := map[string]string{}
	summary := out[strings.Index(out, "Summary:"):]
	for _, line := range strings.Split(summary, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && (f[0] == "reference" || f[0] == "lock-across-write") {
			verdict[f[0]] = f[4]
		}
	}
	if verdict["reference"] != "LIVE" || verdict["lock-across-write"] != "FROZEN" {
		t.Errorf("verdicts %v, want reference LIVE and lock-across-write FROZEN; output:\n%s", verdict, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "chaos.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Designs []struct {
			Name, Verdict string
			Rows          []json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Designs) != 2 || len(rep.Designs[0].Rows) < 3 {
		t.Errorf("chaos.json: %v, %+v", err, rep)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "chaos.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<svg") {
		t.Errorf("chaos.svg: %v", err)
	}
}

func TestChaosFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"chaos", "-faults", "stall,boom"}, "unknown fault"},
		{[]string{"chaos", "-designs", "reference,nope"}, "unknown design"},
		{[]string{"chaos", "-n", "0"}, "-n, -k"},
	} {
		var code int
		out, errs := capture(t, func() { code = run(context.Background(), tc.args) })
		if code != 2 || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%q: exit %d, output %q; want exit 2 and %q", tc.args, code, out+errs, tc.want)
		}
	}
}
