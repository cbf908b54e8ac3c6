package properties

import (
	"testing"
	"time"
)

// A polled bound (boundLeft) stretches by the time the lag monitor saw
// stolen from the harness after it started, not before; without a lag
// monitor it is the bound alone.
func TestBoundLeftStretchesByStolenTime(t *testing.T) {
	lag := &lagMonitor{}
	lag.stolen.Add(int64(time.Hour)) // stolen before: no matter
	e := &env{bound: time.Minute, lag: lag}
	left := e.boundLeft()
	if got := left(); got > time.Minute {
		t.Fatalf("left %v before any time was stolen, want at most the bound, 1m", got)
	}
	lag.stolen.Add(int64(time.Hour))
	if got := left(); got < time.Hour || got > time.Hour+time.Minute {
		t.Errorf("left %v after an hour was stolen, want between 1h and 1h1m", got)
	}
	e.lag = nil
	if got := e.boundLeft()(); got > time.Minute || got < 30*time.Second {
		t.Errorf("with no lag monitor, left %v, want about the bound, 1m", got)
	}
}
