package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestCheckThroughProxy: the proxy is transparent to the property suite.
// "stallproof check" through "stallproof proxy" passes the reference and
// fails lock-across-write on progress: back-pressure crosses two splices
// (the suite's and the proxy's) and still reaches the server.
func TestCheckThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the property suite twice")
	}
	for _, tc := range []struct {
		design string
		code   int
		want   string
	}{
		{"reference", 0, "progress     PASS"},
		{"lock-across-write", 1, "progress     FAIL"},
	} {
		t.Run(tc.design, func(t *testing.T) {
			srv, stopServer := background(t, []string{"serve", "-design", tc.design, "-addr", "127.0.0.1:0"}, "addr")
			defer stopServer()
			px, stopProxy := background(t, []string{"proxy", "-listen", "127.0.0.1:0", "-upstream", srv["addr"]}, "addr")
			defer stopProxy()
			start := time.Now()
			var code int
			out, errs := capture(t, func() {
				code = run(context.Background(), []string{"check", "-addr", px["addr"], "-props", "progress", "-checks", "2"})
			})
			t.Logf("check on %s through the proxy: exit %d in %.1fs", tc.design, code, time.Since(start).Seconds())
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("check on %s through the proxy: exit %d, want %d and %q:\n%s\n%s", tc.design, code, tc.code, tc.want, tail(out), errs)
			}
		})
	}
}
