package properties

import "testing"

// TestStillPushing: pressure goes on through one round whose pushes
// trailed its replies, from a server that has pushed a message per
// request so far, and not from one that conflates its pushes, nor after
// two slow rounds.
func TestStillPushing(t *testing.T) {
	for _, tc := range []struct {
		what                  string
		pushedNow, pushedLast bool
		pushed, requests      int64
		want                  bool
	}{
		{"this round pushed a byte a request", true, false, 10, 1000, true},
		{"a slow round after a pushing one, 57 bytes a request so far", false, true, 57_000, 1000, true},
		{"a slow round after a pushing one, conflated: 1.4 bytes a request", false, true, 1_400, 1000, false},
		{"two slow rounds, 57 bytes a request so far", false, false, 57_000, 1000, false},
		{"a slow round at exactly minPush a request", false, true, minPush * 1000, 1000, true},
	} {
		if got := stillPushing(tc.pushedNow, tc.pushedLast, tc.pushed, tc.requests); got != tc.want {
			t.Errorf("%s: stillPushing = %v, want %v", tc.what, got, tc.want)
		}
	}
}
