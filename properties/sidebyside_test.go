package properties_test

import (
	"context"
	"net"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties"
)

// The leak checks count the goroutines of their own check's server, not
// those of other servers (checks side by side) nor a client's: here each
// Serve call leaves behind one goroutine labelled as another server's and
// one labelled as a client's, which stay until the test ends.
func TestLeaksLookAtTheirOwnServer(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
	serve := func(ctx context.Context, ln net.Listener) error {
		for _, key := range []string{harness.ServerLabel, harness.ClientLabel} {
			pprof.Do(context.Background(), pprof.Labels(key, "elsewhere"), func(context.Context) {
				wg.Go(func() { <-stop })
			})
		}
		return reference(ctx, ln)
	}
	properties.Run(t, serve, properties.Properties("leaks"), properties.Checks(3))
}

// servingAtOnce wraps serve, keeping in most the largest number of its
// Serve calls that ran at the same time.
func servingAtOnce(serve properties.ServeFunc, most *atomic.Int32) properties.ServeFunc {
	var now atomic.Int32
	return func(ctx context.Context, ln net.Listener) error {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		return serve(ctx, ln)
	}
}

// Properties that may share the process run their checks side by side,
// each on its own listener and Serve call; OneAtATime runs them in turn.
func TestPropertiesSideBySide(t *testing.T) {
	props := properties.Properties("consistency", "halfclose", "delivery", "leaks")
	var most atomic.Int32
	t.Run("side by side", func(t *testing.T) {
		properties.Run(t, servingAtOnce(reference, &most), props, properties.Checks(10))
	})
	if got := most.Load(); got < 2 {
		t.Errorf("side by side: at most %d Serve call at once, want 2 or more", got)
	}
	most.Store(0)
	t.Run("one at a time", func(t *testing.T) {
		properties.Run(t, servingAtOnce(reference, &most), props, properties.Checks(10), properties.OneAtATime())
	})
	if got := most.Load(); got != 1 {
		t.Errorf("OneAtATime: at most %d Serve calls at once, want 1", got)
	}
}
