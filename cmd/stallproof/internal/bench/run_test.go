package bench

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/server"
)

func TestCheckLoopback(t *testing.T) {
	assert.NoError(t, CheckLoopback("127.0.0.1:9000"))
	assert.ErrorContains(t, CheckLoopback("10.0.0.1:9000"), "bench only loads servers on this machine")
	if _, err := Run(context.Background(), Config{Addr: "192.0.2.1:9000"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Run against a remote address: %v", err)
	}
}

// TestRunInProcess: a short in-process run reports votes, latencies, heap,
// goroutines and the server's evictions, and stops the server.
func TestRunInProcess(t *testing.T) {
	var live bytes.Buffer
	res, err := Run(context.Background(), Config{
		Healthy: 4, Faulty: 1,
		Warmup: 200 * time.Millisecond, Duration: time.Second, Interval: 200 * time.Millisecond,
		Live: &live,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Load.Votes == 0 || res.Load.Errors != 0 || !res.InProcess || !res.Stopped || !res.EvictionsKnown {
		t.Errorf("result %+v", res)
	}
	if res.HeapStart == 0 || res.HeapEnd == 0 || res.GoroutinesEnd == 0 || len(res.HeapSamples) != len(res.Load.Samples) {
		t.Errorf("heap %d → %d, goroutines %d, %d heap samples for %d samples", res.HeapStart, res.HeapEnd, res.GoroutinesEnd, len(res.HeapSamples), len(res.Load.Samples))
	}
	var out bytes.Buffer
	res.Write(&out)
	for _, want := range []string{"votes/s", "ack latency", "tallies/s", "evictions", "heap", "goroutines"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(live.String(), "votes/s") {
		t.Errorf("live output:\n%s", live.String())
	}
}

// TestRunAddr loads a server on a loopback address.
func TestRunAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	harness.StartT(t, s.Serve, ln, 0, harness.Config{Name: "reference"})
	res, err := Run(context.Background(), Config{
		Addr: ln.Addr().String(), Healthy: 3, Faulty: 1,
		Warmup: 100 * time.Millisecond, Duration: 500 * time.Millisecond, Interval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Load.Votes == 0 || res.InProcess || res.Load.Errors != 0 {
		t.Errorf("result %+v", res)
	}
	var out strings.Builder
	res.Write(&out)
	assert.Contains(t, out.String(), "evictions     the server's own count is not visible over TCP")
}

// TestFrozenDesignEnds: a run against a design that freezes ends on time
// and the design stops.
func TestFrozenDesignEnds(t *testing.T) {
	res, err := Run(context.Background(), Config{
		Design: "lock-across-write", Healthy: 4, Faulty: 1,
		Warmup: 100 * time.Millisecond, Duration: time.Second, Interval: 250 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped {
		t.Errorf("not stopped: %s", res.StopError)
	}
	last := res.Load.Samples[len(res.Load.Samples)-1]
	if last.Votes != 0 {
		t.Errorf("%d votes in the last interval of a frozen design", last.Votes)
	}
	// The votes never answered count in the latency, as lower bounds.
	assert.Positive(t, last.Unanswered)
	assert.True(t, last.P99AtLeast, "last p99 %v is not a lower bound", last.P99)
	assert.True(t, res.Load.Latency.MaxAtLeast, "run max %v is not a lower bound", res.Load.Latency.Max)
	var out strings.Builder
	res.Write(&out)
	assert.Regexp(t, `max >\S+ .*votes unanswered`, out.String())
	assert.Contains(t, out.String(), "evictions     the design keeps no count")
}
