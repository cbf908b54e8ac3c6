package properties

import "testing"

func TestParseGoroutineHeader(t *testing.T) {
	for _, c := range []struct {
		header, id, status string
		bubble             int64
	}{
		{"goroutine 7 [sync.Mutex.Lock, synctest bubble 3]:", "7", "sync.Mutex.Lock", 3},
		{"goroutine 12 [sync.Cond.Wait (durable), 2 minutes, synctest bubble 41]:", "12", "sync.Cond.Wait (durable)", 41},
		{"goroutine 1 [running]:", "1", "running", 0},
		{"goroutine 9 [chan receive, locked to thread]:", "9", "chan receive", 0},
		{"not a header", "", "", 0},
	} {
		gs, bubble := parseGoroutineHeader(c.header)
		if gs.id != c.id || gs.status != c.status || bubble != c.bubble {
			t.Errorf("parseGoroutineHeader(%q) = %q, %q, %d; want %q, %q, %d", c.header, gs.id, gs.status, bubble, c.id, c.status, c.bubble)
		}
	}
}

func TestWaitsOutside(t *testing.T) {
	for status, want := range map[string]bool{
		"sync.Mutex.Lock":    true,
		"sync.RWMutex.RLock": true,
		"chan receive":       true,
		"select":             true,
		"IO wait":            true,
		"wait for GC cycle":  false, // runtime.GC: ends by itself
		"GC assist wait":     false,
		"preempted":          false,
	} {
		if got := waitsOutside(status); got != want {
			t.Errorf("waitsOutside(%q) = %v, want %v", status, got, want)
		}
	}
}
