package mutants

import (
	"testing"

	"github.com/stallproof/stallproof/internal/harness"
	"go.uber.org/goleak"
)

// The leaky-writer mutant's leaked goroutines end when its server stops, just
// after Serve returns, so they need no exemption here: goleak retries for a
// while before it reports. Its own test counts them while they leak.
func TestMain(m *testing.M) {
	harness.DefaultParallel(harness.WaitingParallelism) // most tests wait on a stalled peer or a clock
	harness.NoRaceExitPause()
	goleak.VerifyTestMain(m)
}
