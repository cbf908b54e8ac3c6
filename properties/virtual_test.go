package properties_test

import (
	"context"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
)

// lockWaitEnv makes TestLockWaitChild run: the suite in virtual time
// against a live server whose goroutine holds a lock while it waits with a
// timer, which stops a bubble's clock. Its goroutines stay parked in the
// given-up bubble, so it runs in a child process.
const lockWaitEnv = "STALLPROOF_LOCK_WAIT_CHILD"

// lockWait serves the reference server, and meanwhile holds a lock while
// waiting for a timer, while another goroutine waits for that lock: live
// in real time, a clock that never moves in a bubble.
func lockWait(ctx context.Context, ln net.Listener) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		held atomic.Int64 // something to do under the lock
	)
	mu.Lock()
	wg.Go(func() {
		defer mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(time.Hour):
		}
	})
	wg.Go(func() {
		mu.Lock() // not durably blocked: the bubble never idles
		defer mu.Unlock()
		held.Add(1)
	})
	defer wg.Wait()
	return reference(ctx, ln)
}

func TestLockWaitChild(t *testing.T) {
	if os.Getenv(lockWaitEnv) == "" {
		t.Skip("runs only as a child of TestVirtualTimeGivesUpOnALockWait")
	}
	properties.Run(t, lockWait, properties.VirtualTime(), properties.Properties("progress"), properties.Checks(3))
}

// TestVirtualTimeGivesUpOnALockWait: a bubble whose clock stands still
// behind a lock is given up, not judged: the check is inconclusive, the
// Run goes on in real time, and the live server passes; the verdict says
// so.
func TestVirtualTimeGivesUpOnALockWait(t *testing.T) {
	if os.Getenv(lockWaitEnv) != "" || os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := childTest(ctx, "^TestLockWaitChild$", lockWaitEnv+"=1")
	out, _ := cmd.CombinedOutput() // the parked goroutines fail goleak in the child: not the point here
	m := regexp.MustCompile(`verdict property=progress result=(\w+) checks=\d+ note="([^"]*)"`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no verdict for progress:\n%s", tail(out))
	}
	result, note := string(m[1]), string(m[2])
	if result != "PASS" {
		t.Errorf("progress: %s, want PASS (a live server):\n%s", result, tail(out))
	}
	for _, want := range []string{"1 of 3 checks inconclusive: virtual time stood still", "real time: virtual time stood still", "waits for a lock"} {
		if !strings.Contains(note, want) {
			t.Errorf("progress's note %q does not say %q", note, want)
		}
	}
}
