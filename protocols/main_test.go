package protocols_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/internal/harness"
)

func TestMain(m *testing.M) {
	harness.NoRaceExitPause()
	harness.DefaultParallel(harness.ChildParallelism) // the broken brokers' children wait on clocks
	goleak.VerifyTestMain(m)
}
