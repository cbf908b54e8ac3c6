package chaos

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/load"
)

func TestCountLabels(t *testing.T) {
	profile := `goroutine profile: total 7
3 @ 0x1 0x2
# labels: {"stallproof-design":"reference"}
#	0x1	runtime.gopark+0x1	/x.go:1

2 @ 0x1 0x3
# labels: {"other":"x", "stallproof-design":"lock-across-write"}
#	0x1	runtime.gopark+0x1	/x.go:1

1 @ 0x1 0x4
# labels: {"stallproof-load":"reference"}

1 @ 0x1 0x5
#	0x1	main.main+0x1	/x.go:1
`
	got := countLabels(bytes.NewBufferString(profile), designLabel)
	if len(got) != 2 || got["reference"] != 3 || got["lock-across-write"] != 2 {
		t.Errorf("countLabels = %v, want reference 3, lock-across-write 2", got)
	}
}

func TestGoroutinesByLabel(t *testing.T) {
	stop := make(chan struct{})
	started := make(chan struct{})
	go labelled(designLabel, "test-design", func() {
		go func() { <-stop }() // inherits the label
		close(started)
		<-stop
	})
	<-started
	if got := goroutinesByLabel(designLabel)["test-design"]; got != 2 {
		t.Errorf("%d goroutines labelled, want 2", got)
	}
	close(stop)
}

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
// (its writes block once about 40 KiB are in the kernel's buffers).
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
	if !strings.Contains(live.String(), "broadcast-worker") || !strings.Contains(live.String(), "votes/s") {
		t.Errorf("live table:\n%s", live.String())
	}
	var sum bytes.Buffer
	WriteSummary(&sum, rep)
	if !strings.Contains(sum.String(), "FROZEN") {
		t.Errorf("summary:\n%s", sum.String())
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

func TestLookupDesigns(t *testing.T) {
	if _, err := LookupDesigns([]string{"reference", "nope"}); err == nil || !strings.Contains(err.Error(), "lock-across-write") {
		t.Errorf("unknown design: %v, want an error listing the known ones", err)
	}
	if _, err := LookupDesigns([]string{"reference", "reference"}); err == nil {
		t.Error("a design named twice: no error")
	}
	ds, err := LookupDesigns(DefaultDesigns)
	if err != nil || len(ds) != 3 {
		t.Errorf("defaults: %v, %v", ds, err)
	}
}

// TestRunInterrupted: a cancelled context ends the run early, and the
// report says so.
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
