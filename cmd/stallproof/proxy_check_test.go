package main

import "testing"

// TestCheckThroughProxy: the proxy is transparent to the property suite.
// "stallproof check" through "stallproof proxy" passes the reference and
// fails lock-across-write on progress: back-pressure crosses two splices
// (the suite's and the proxy's) and still reaches the server.
func TestCheckThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the property suite twice")
	}
	t.Parallel()
	for _, tc := range onProgress {
		t.Run(tc.design, func(t *testing.T) {
			t.Parallel()
			srv, stopServer := spawn(t, []string{"serve", "-design", tc.design, "-addr", "127.0.0.1:0"}, "addr")
			defer stopServer()
			px, stopProxy := spawn(t, []string{"proxy", "-listen", "127.0.0.1:0", "-upstream", srv["addr"]}, "addr")
			defer stopProxy()
			tc.check(t, "on "+tc.design+" through the proxy", "-addr", px["addr"], "-props", "progress", "-checks", "2")
		})
	}
}
