package harness

import (
	"flag"
	"runtime"
	"strconv"
)

// ChildParallelism is how many parallel tests a package whose parallel
// tests run the suite in child processes runs at once by default: such a
// test spends most of its time waiting on its child's clocks (bounds,
// shrinking), not on a CPU, so the testing package's default, GOMAXPROCS,
// left two cores half idle.
const ChildParallelism = 4

// WaitingParallelism is how many parallel tests run at once by default in
// a package whose tests mostly wait, in memory, on a clock or on a peer
// they stalled on purpose (a blocked Write, a deadline, a fixed-length
// load): many of them share two cores without delaying one another.
const WaitingParallelism = 8

// DefaultParallel sets -test.parallel to n, or GOMAXPROCS if that is
// more, unless the command line set it. Call it from TestMain, before
// m.Run; it parses the flags.
func DefaultParallel(n int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			set = true
		}
	})
	if f := flag.Lookup("test.parallel"); f != nil && !set {
		_ = f.Value.Set(strconv.Itoa(max(n, runtime.GOMAXPROCS(0))))
	}
}
