package faultnet_test

import (
	"testing"

	"github.com/stallproof/stallproof/internal/harness"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	harness.DefaultParallel(harness.WaitingParallelism) // most tests wait on a blocked peer or a clock
	goleak.VerifyTestMain(m)
}
