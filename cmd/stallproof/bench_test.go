package main

import (
	"context"
	"strings"
	"testing"
)

// TestBenchSmoke runs "stallproof bench" in-process for about a second.
func TestBenchSmoke(t *testing.T) {
	var code int
	out, errs := capture(t, func() {
		code = run(context.Background(), []string{"bench", "-n", "5", "-k", "1", "-warmup", "200ms", "-duration", "1s"})
	})
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"votes/s", "ack latency", "tallies/s", "evictions", "heap", "goroutines"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _ = capture(t, func() {
		code = run(context.Background(), []string{"bench", "-json", "-n", "2", "-k", "0", "-warmup", "0s", "-duration", "300ms"})
	})
	if code != 0 || !strings.Contains(out, `"votes_per_sec"`) {
		t.Errorf("-json: exit %d, output %s", code, out)
	}
}

func TestBenchRefusesRemoteAddresses(t *testing.T) {
	var code int
	out, errs := capture(t, func() { code = run(context.Background(), []string{"bench", "-addr", "192.0.2.1:9000"}) })
	if code != 2 || !strings.Contains(out+errs, "not a loopback address") {
		t.Errorf("exit %d, output %q; want exit 2 and a clear error", code, out+errs)
	}
}
