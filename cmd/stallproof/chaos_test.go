package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	verdict, p99 := map[string]string{}, map[string]string{}
	summary := out[strings.Index(out, "Summary:"):]
	for _, line := range strings.Split(summary, "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && (f[0] == "reference" || f[0] == "lock-across-write") {
			verdict[f[0]] = f[5]
			p99[f[0]] = f[3]
		}
	}
	if verdict["reference"] != "LIVE" || verdict["lock-across-write"] != "FROZEN" {
		t.Errorf("verdicts %v, want reference LIVE and lock-across-write FROZEN; output:\n%s", verdict, out)
	}
	// The frozen design's votes never answered (a tenth of its clients'
	// votes at 20 votes/s, 2 s before the freeze) count in its ack p99: a
	// lower bound of seconds, never better than the reference's.
	assert.True(t, strings.HasPrefix(p99["lock-across-write"], ">"), "ack p99 of the frozen design: %q; output:\n%s", p99["lock-across-write"], out)
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
		{[]string{"chaos", "-faults", "stall,boom"}, "stallproof chaos: -faults: unknown fault"},
		{[]string{"chaos", "-designs", "reference,nope"}, "stallproof chaos: -designs: unknown design"},
		{[]string{"chaos", "-n", "0"}, "stallproof chaos: -n: want 1 or more healthy clients, got 0"},
		{[]string{"chaos", "-n", "-5"}, "stallproof chaos: -n: want 1 or more healthy clients, got -5"},
		{[]string{"chaos", "-k", "-1"}, "stallproof chaos: -k: want 0 or more faulty clients, got -1"},
		{[]string{"chaos", "-n", "99999", "-k", "2"}, "stallproof chaos: -n, -k: 100001 clients in all; want at most 100000"},
		{[]string{"chaos", "-duration", "0s"}, "stallproof chaos: -duration: want more than 0"},
		{[]string{"chaos", "-rate", "-1"}, "stallproof chaos: -rate: want 0 (as fast as answered) or more"},
		{[]string{"chaos", "-fault-every", "-1s"}, "stallproof chaos: -fault-every:"},
		{[]string{"bench", "-n", "-5"}, "stallproof bench: -n: want 1 or more healthy clients, got -5"},
		{[]string{"bench", "-rate", "-1"}, "stallproof bench: -rate: want 0 (as fast as answered) or more"},
		{[]string{"bench", "-warmup", "-1s"}, "stallproof bench: -warmup: want 0 or more"},
		{[]string{"bench", "-duration", "59m", "-warmup", "2m"}, "stallproof bench: -duration: want more than 0 and at most 1h0m0s in all, got 1h1m0s"},
		{[]string{"bench", "-design", "nope"}, "stallproof bench: -design: unknown design"},
	} {
		var code int
		out, errs := capture(t, func() { code = run(context.Background(), tc.args) })
		if code != 2 || !strings.HasPrefix(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and a message starting %q", tc.args, code, errs, tc.want)
		}
		if out != "" {
			t.Errorf("%q: a usage error printed to stdout: %q", tc.args, out)
		}
	}
}

// TestChaosOutCheckedFirst: an -out directory that cannot be written is
// an error before the run starts, not after it.
func TestChaosOutCheckedFirst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	t0 := time.Now()
	var code int
	out, errs := capture(t, func() {
		code = run(context.Background(), []string{"chaos", "-duration", "1m", "-out", filepath.Join(file, "sub")})
	})
	assert.Equal(t, 2, code)
	assert.True(t, strings.HasPrefix(errs, "stallproof chaos: -out: "), "stderr %q", errs)
	assert.Empty(t, out, "nothing ran")
	assert.Less(t, time.Since(t0), 10*time.Second)
	require.NoError(t, checkOutDir(filepath.Join(t.TempDir(), "a", "b")), "a directory that can be made")
}

// TestRateMeansTheSame: -rate 0 is "as fast as answered" in chaos as in
// bench, and its summary says so.
func TestRateMeansTheSame(t *testing.T) {
	var code int
	out, errs := capture(t, func() {
		code = run(context.Background(), []string{"chaos", "-designs", "reference", "-n", "2", "-k", "0", "-duration", "1s", "-rate", "0"})
	})
	require.Equal(t, 0, code, "stderr: %s", errs)
	assert.Contains(t, out, "voting at full speed")
	out, errs = capture(t, func() {
		code = run(context.Background(), []string{"chaos", "-designs", "reference", "-n", "2", "-k", "0", "-duration", "1s", "-rate", "5"})
	})
	require.Equal(t, 0, code, "stderr: %s", errs)
	assert.Contains(t, out, "voting at 5 votes/s each")
}
