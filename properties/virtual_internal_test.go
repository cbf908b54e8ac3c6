package properties

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stallproof/stallproof/properties/internal/stacks"
)

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

// TestBubbleStateSeesALockWait: a goroutine of a bubble that waits for a
// lock held outside it is what the watchdog looks for.
func TestBubbleStateSeesALockWait(t *testing.T) {
	var mu sync.Mutex
	mu.Lock()
	var id atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		synctest.Test(t, func(*testing.T) {
			id.Store(stacks.OwnBubble())
			mu.Lock() // held outside: not durably blocked
			defer mu.Unlock()
		})
	}()
	for id.Load() == 0 {
		runtime.Gosched()
	}
	deadline := time.Now().Add(10 * time.Second)
	var st stuckBubble
	for time.Now().Before(deadline) {
		if st = bubbleState(id.Load()); len(st.nondurable) == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling a dump: no event to wait for
	}
	mu.Unlock()
	<-done
	if len(st.nondurable) != 1 || st.nondurable[0].State != "sync.Mutex.Lock" {
		t.Fatalf("bubbleState = %+v, want one goroutine in sync.Mutex.Lock", st)
	}
}
