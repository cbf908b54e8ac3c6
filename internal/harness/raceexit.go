package harness

import (
	"os"
	"strings"
)

// NoRaceExitPause makes the processes this one starts from now on (a test
// binary re-run as a child, a server it serves in another process) exit
// at once when they are built with the race detector, which otherwise
// pauses a second at exit (GORACE's atexit_sleep_ms, 1000 by default) so
// that other goroutines can report a last race. A test that waits for its
// children to exit paid that second for each. Races are still reported
// when they happen. A GORACE that already sets atexit_sleep_ms is kept.
// Call it from TestMain.
func NoRaceExitPause() {
	v := os.Getenv("GORACE")
	if strings.Contains(v, "atexit_sleep_ms") {
		return
	}
	_ = os.Setenv("GORACE", strings.TrimSpace(v+" atexit_sleep_ms=0"))
}
