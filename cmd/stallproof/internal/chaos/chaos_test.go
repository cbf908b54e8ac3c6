package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/internal/load"
)

// samples builds one sample a second with the given votes/s.
func samples(rates ...float64) []load.Sample {
	var out []load.Sample
	for i, r := range rates {
		out = append(out, load.Sample{At: time.Duration(i+1) * time.Second, Span: time.Second, VotesPerSec: r})
	}
	return out
}

func TestJudge(t *testing.T) {
	stall := []load.FaultEvent{{Fault: load.Stall, At: 3 * time.Second}}
	for _, tc := range []struct {
		name     string
		res      load.Result
		verdict  string
		frozenAt float64
	}{
		{"live", load.Result{Samples: samples(1000, 1000, 1000, 990, 1010, 1000), FirstFault: 3 * time.Second, Faults: stall}, Live, -1},
		{"frozen", load.Result{Samples: samples(1000, 1000, 1000, 500, 0, 0), FirstFault: 3 * time.Second, Faults: stall, Stuck: 10}, Frozen, 4},
		{"frozen at once", load.Result{Samples: samples(1000, 1000, 1000, 0, 0, 0), FirstFault: 3 * time.Second, Faults: stall, Stuck: 10}, Frozen, 3},
		{"one empty interval is not frozen", load.Result{Samples: samples(1000, 1000, 1000, 1000, 1000, 0), FirstFault: 3 * time.Second, Faults: stall, Stuck: 10, MaxStuck: 10}, Degraded, -1},
		{"slower", load.Result{Samples: samples(1000, 1000, 1000, 400, 400, 400), FirstFault: 3 * time.Second, Faults: stall}, Degraded, -1},
		{"a little slower", load.Result{Samples: samples(1000, 1000, 1000, 700, 700, 700), FirstFault: 3 * time.Second, Faults: stall}, Live, -1},
		{"stuck once", load.Result{Samples: samples(1000, 1000, 1000, 1000, 1000, 1000), FirstFault: 3 * time.Second, Faults: stall, MaxStuck: 1}, Degraded, -1},
		{"no fault", load.Result{Samples: samples(1000, 1000), FirstFault: -1}, Live, -1},
		{"no fault, frozen", load.Result{Samples: samples(1000, 1000, 0, 0), FirstFault: -1, Stuck: 3}, Frozen, 2},
	} {
		d := DesignReport{Result: tc.res}
		d.judge(Config{Healthy: 10})
		if d.Verdict != tc.verdict || d.FrozenAt != tc.frozenAt {
			t.Errorf("%s: %s (frozen at %v), want %s (%v): %s", tc.name, d.Verdict, d.FrozenAt, tc.verdict, tc.frozenAt, d.Detail)
		}
	}
}

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct{ v, top, step float64 }{
		{1100, 1500, 500}, {1000, 1000, 200}, {0, 1, 0.2}, {9.5, 10, 2}, {51000, 60000, 20000},
	} {
		if top, step := niceScale(tc.v); top != tc.top || step != tc.step {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tc.v, top, step, tc.top, tc.step)
		}
	}
}

// TestRunSmoke runs the reference and the seed's worker design side by
// side over loopback TCP at full speed, with one client stalling at
// 0.5 s: the worker design must freeze and the reference must not. Bounds
// are generous: the worker freezes within a few milliseconds of the stall
// (its writes block once about 40 KiB are in its socket buffers).
func TestRunSmoke(t *testing.T) {
	var live bytes.Buffer
	rep, err := Run(context.Background(), Config{
		Designs:    []string{"reference", "broadcast-worker"},
		Healthy:    8,
		Faulty:     1,
		Faults:     []load.Fault{load.Stall},
		FaultAt:    500 * time.Millisecond,
		Duration:   4 * time.Second,
		Rate:       -1,
		Interval:   500 * time.Millisecond,
		StuckAfter: 2 * time.Second,
		TCP:        true,
		Live:       &live,
	})
	if err != nil {
		t.Fatal(err)
	}
	ref, worker := rep.Designs[0], rep.Designs[1]
	if ref.Verdict == Frozen || ref.Result.Lost != 0 || ref.Result.Votes == 0 {
		t.Errorf("reference: %s, %d lost, %d votes", ref.Detail, ref.Result.Lost, ref.Result.Votes)
	}
	if worker.Verdict != Frozen {
		t.Errorf("broadcast-worker: %s, want FROZEN", worker.Detail)
	}
	for _, d := range rep.Designs {
		if !d.Stopped || d.GoroutinesAfterStop != 0 {
			t.Errorf("%s: stopped %v (%s), %d goroutines left", d.Name, d.Stopped, d.StopError, d.GoroutinesAfterStop)
		}
	}
	checkFrames(t, live.String(), rep, 500*time.Millisecond)
	// The frozen design's votes never answered count in its ack p99, as a
	// lower bound: it must not look faster than the reference.
	last := worker.Rows[len(worker.Rows)-1]
	assert.True(t, last.P99AtLeast, "frozen design's last p99 %.1f ms is not marked a lower bound (%d unanswered)", last.P99, last.Unanswered)
	assert.Greater(t, last.P99, 1000.0, "frozen design's last p99, ms")
	var sum bytes.Buffer
	WriteSummary(&sum, rep)
	require.Contains(t, sum.String(), "FROZEN")
	workerLine := regexp.MustCompile(`(?m)^broadcast-worker\s+\d+\s+\d+\s+\S+\s+(\d+)\s+FROZEN`).FindStringSubmatch(sum.String())
	if assert.NotNil(t, workerLine, "summary:\n%s", sum.String()) {
		assert.NotEqual(t, "0", workerLine[1], "the frozen design's unanswered votes")
	}
	var svg bytes.Buffer
	if err := WriteSVG(&svg, rep); err != nil {
		t.Fatal(err)
	}
	checkXML(t, svg.Bytes())
	if !strings.Contains(svg.String(), "first client stalls") || strings.Count(svg.String(), "<polyline") != 2 {
		t.Errorf("chart lacks the stall mark or a line per design")
	}
}

// checkFrames checks the live table: one frame per interval, labelled
// with the end of that interval (never twice, never skipped), whose rows
// show that interval's samples as the report keeps them.
func checkFrames(t *testing.T, live string, rep *Report, interval time.Duration) {
	t.Helper()
	label := regexp.MustCompile(`(?m)^\s*([0-9.]+)s / `)
	var got []string
	for _, m := range label.FindAllStringSubmatch(live, -1) {
		got = append(got, m[1])
	}
	n := len(rep.Designs[0].Rows) // a frame per interval every design sampled
	for _, d := range rep.Designs {
		n = min(n, len(d.Rows))
	}
	var want []string
	for k := 1; k <= n; k++ {
		want = append(want, fmt.Sprintf("%.1f", min(time.Duration(k)*interval, time.Duration(rep.Duration*float64(time.Second))).Seconds()))
	}
	require.Equal(t, want, got, "frame labels; live table:\n%s", live)
	frames := strings.Split(live, "\n\n")
	require.Len(t, frames, n)
	for k, f := range frames {
		for _, d := range rep.Designs {
			row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(d.Name) + `\s+(\d+)`).FindStringSubmatch(f)
			if assert.NotNil(t, row, "frame %d has no row for %s:\n%s", k, d.Name, f) {
				assert.Equal(t, fmt.Sprintf("%.0f", d.Rows[k].VotesPerSec), row[1], "frame %d, %s: votes/s", k, d.Name)
			}
		}
	}
}

func checkXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	rep, err := Run(ctx, Config{Designs: []string{"reference"}, Healthy: 2, Faulty: 1, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || time.Since(t0) > 30*time.Second {
		t.Errorf("interrupted %v after %v", rep.Interrupted, time.Since(t0))
	}
	var sum bytes.Buffer
	WriteSummary(&sum, rep)
	if !strings.Contains(sum.String(), "interrupted") {
		t.Errorf("summary does not say the run was interrupted:\n%s", sum.String())
	}
}

// TestReportUnits: every number with a unit in chaos.json says it in its
// name.
func TestReportUnits(t *testing.T) {
	rep := newReport(Config{Designs: []string{"reference"}, Duration: 18 * time.Second}.withDefaults())
	rep.Designs[0].Rows = []Row{{At: 1}}
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"duration_s", "fault_at_s", "fault_every_s", "stuck_after_s", "rate_votes_per_s", "heap_bytes"} {
		assert.Contains(t, m, k)
	}
	for _, k := range []string{"duration", "fault_at", "fault_every", "stuck_after", "rate"} {
		assert.NotContains(t, m, k)
	}
	assert.Equal(t, 18.0, m["duration_s"])
	d := m["designs"].([]any)[0].(map[string]any)
	for _, k := range []string{"stop_time_s", "frozen_at_s"} {
		assert.Contains(t, d, k)
	}
	assert.Contains(t, d["rows"].([]any)[0], "at_s")
	res := d["result"].(map[string]any)
	for _, k := range []string{"elapsed_ns", "first_fault_ns"} {
		assert.Contains(t, res, k)
	}
}
