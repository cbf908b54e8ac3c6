package properties_test

import (
	"context"
	"flag"
	"net"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/internal/stacks"
)

// The leak checks count the goroutines of their own check's server, not
// those of other servers running beside it (checks side by side) nor a
// client's: here each leaks check's Serve call starts, under the label of
// another property's Serve call still running, a goroutine that lives
// until that call returns; and each Serve call starts one labelled as a
// client's, which lives until the test ends.
func TestLeaksLookAtTheirOwnServer(t *testing.T) {
	needLabels(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
	var mu sync.Mutex
	running := map[string]chan struct{}{} // label of a Serve call → closed when it returns
	var borrowed atomic.Int32
	serve := func(ctx context.Context, ln net.Listener) error {
		own, _ := pprof.Label(ctx, harness.ServerLabel)
		ended := make(chan struct{})
		mu.Lock()
		for other, done := range running {
			if !strings.HasPrefix(own, "leaks#") || strings.HasPrefix(other, "leaks#") {
				continue // a leaks check's Serve call borrows another property's label
			}
			pprof.Do(context.Background(), pprof.Labels(harness.ServerLabel, other), func(context.Context) {
				wg.Go(func() { <-done })
			})
			borrowed.Add(1)
			break
		}
		running[own] = ended
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(running, own)
			mu.Unlock()
			close(ended)
		}()
		pprof.Do(context.Background(), pprof.Labels(harness.ClientLabel, "elsewhere"), func(context.Context) {
			wg.Go(func() { <-stop })
		})
		return reference(ctx, ln)
	}
	properties.Run(t, serve, properties.Properties("consistency", "halfclose", "delivery", "leaks"), properties.Checks(5))
	if borrowed.Load() == 0 {
		t.Error("no Serve call ran beside another: nothing was checked")
	}
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
	needLabels(t)
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

// A server that labels its own goroutines for profiling, from the context
// Serve is given, keeps the suite's label on them: leaks side by side
// still tells its goroutines from other checks'.
func TestServerThatLabelsItsGoroutines(t *testing.T) {
	serve := func(ctx context.Context, ln net.Listener) (err error) {
		pprof.Do(ctx, pprof.Labels("app", "voting"), func(ctx context.Context) { err = reference(ctx, ln) })
		return err
	}
	properties.Run(t, serve, properties.Properties("consistency", "halfclose", "delivery", "leaks"), properties.Checks(8))
}

// afterFuncEnv makes TestAfterFuncLeakChild run.
const afterFuncEnv = "STALLPROOF_AFTERFUNC_CHILD"

// A server whose shutdown callback (context.AfterFunc on Serve's context)
// blocks forever leaves a goroutine behind after Serve returns: the suite
// cancels Serve's context under the server's label, so the callback's
// goroutine is the server's, and leaks fails.
func TestAfterFuncLeakIsTheServers(t *testing.T) {
	wantLeakInChild(t, "^TestAfterFuncLeakChild$", afterFuncEnv+"=1", "TestAfterFuncLeakChild.func1.1")
}

// wantLeakInChild runs the test run in a child, with env ("NAME=value")
// set, and wants it to fail leaks after Serve returned, its output saying
// each of want (the leaking goroutine's function, say). The Run is a
// child's, so the test runs beside others.
func wantLeakInChild(t *testing.T, run, env string, want ...string) {
	t.Helper()
	name, _, _ := strings.Cut(env, "=")
	if os.Getenv(name) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	out, err := childTest(ctx, run, env).CombinedOutput()
	want = append(want, "goroutines remain after Serve returned")
	if err == nil || slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(string(out), w) }) {
		t.Fatalf("want leaks to fail after Serve returned, saying %q (failed: %v):\n%s", want, err != nil, out)
	}
}

// TestAfterFuncLeakChild is TestAfterFuncLeakIsTheServers's child.
func TestAfterFuncLeakChild(t *testing.T) {
	if os.Getenv(afterFuncEnv) == "" {
		t.Skip("runs only as a child of TestAfterFuncLeakIsTheServers")
	}
	forever := make(chan struct{})
	serve := func(ctx context.Context, ln net.Listener) error {
		context.AfterFunc(ctx, func() { <-forever })
		return reference(ctx, ln)
	}
	properties.Run(t, serve, properties.Properties("leaks"), properties.Checks(5))
}

// needLabels skips t where goroutine dumps do not show profiler labels
// (before Go 1.26): there a Run runs its properties in turn, and the leak
// checks count every new goroutine.
func needLabels(t *testing.T) {
	t.Helper()
	restore, shown := stacks.ShowLabels()
	restore()
	if !shown {
		t.Skip("needs goroutine dumps that show profiler labels (Go 1.26)")
	}
}

// hubEnv makes TestHubLeakChild run.
const hubEnv = "STALLPROOF_HUB_CHILD"

// A hub to which Serve hands each connection is the server's, though it
// was there before the check: the test calling Run started it, or an init
// function did (its goroutines carry no label), or the first Serve call
// did, lazily (they carry that call's label, which has ended). One that
// starts a goroutine per connection and never ends it is a leak.
func TestHubLeakIsTheServers(t *testing.T) {
	needLabels(t)
	for _, kind := range []string{"test", "init", "lazy"} {
		t.Run(kind, func(t *testing.T) {
			want := []string{"startHub.func1.1"}
			if kind == "init" { // which a fixture of TestMain's would be too
				want = append(want, "descend from a goroutine that the main goroutine started")
			}
			wantLeakInChild(t, "^TestHubLeakChild$", hubEnv+"="+kind, want...)
		})
	}
}

// TestHubLeakChild is TestHubLeakIsTheServers's child.
func TestHubLeakChild(t *testing.T) {
	forever := make(chan struct{})
	t.Cleanup(func() { close(forever) })
	var serve properties.ServeFunc
	switch os.Getenv(hubEnv) {
	case "":
		t.Skip("runs only as a child of TestHubLeakIsTheServers")
	case "test":
		hub := startHub(forever)
		serve = func(ctx context.Context, ln net.Listener) error { return reference(ctx, handingOver{ln, hub}) }
	case "init":
		serve = func(ctx context.Context, ln net.Listener) error { return reference(ctx, handingOver{ln, initHub}) }
	case "lazy":
		var once sync.Once
		var hub chan<- struct{}
		serve = func(ctx context.Context, ln net.Listener) error {
			once.Do(func() { hub = startHub(forever) })
			return reference(ctx, handingOver{ln, hub})
		}
	}
	// A short bound: the hub leaks whatever the bound, and each failing
	// check waits it out twice (while Serve runs, and after).
	properties.Run(t, serve, properties.Properties("leaks"), properties.Checks(3), properties.Bound(500*time.Millisecond))
}

// initHub is started while the package initialises, in the child that
// wants it.
var initHub = func() chan<- struct{} {
	if os.Getenv(hubEnv) != "init" {
		return nil
	}
	return startHub(nil) // it lives as long as the child
}()

// startHub starts a hub that, for each connection it is told of, starts a
// task that lives until stop is closed: a leak of one goroutine per
// connection.
func startHub(stop <-chan struct{}) chan<- struct{} {
	conns := make(chan struct{})
	go func() {
		for range conns {
			go func() { <-stop }()
		}
	}()
	return conns
}

// handingOver tells the hub of each connection it accepts.
type handingOver struct {
	net.Listener
	hub chan<- struct{}
}

func (l handingOver) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.hub <- struct{}{}
	}
	return c, err
}

// The leak checks do not count goroutines that another test starts while
// a check runs (a parallel test's server, a child process's output
// copier): they carry no label, as a server's time.AfterFunc goroutine
// does, but they descend from another test's goroutine. Here the other
// test is a parallel subtest that makes goroutines every few
// milliseconds, each living until it ends: its own, or a fixture's that
// the parent test started and shares with its subtests.
func TestLeaksIgnoreOtherTestsGoroutines(t *testing.T) {
	needLabels(t)
	if p := flag.Lookup("test.parallel"); p == nil || p.Value.(flag.Getter).Get().(int) < 2 {
		t.Skip("needs two subtests running side by side (-parallel 2 or more)")
	}
	for _, whose := range []string{"its own", "the parent's fixture"} {
		t.Run(whose, func(t *testing.T) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			t.Cleanup(func() { // after the subtests, which run once this function returns
				close(stop)
				wg.Wait()
			})
			fixture := make(chan struct{})
			wg.Go(func() { // the parent's fixture: a goroutine for each request
				for {
					select {
					case <-stop:
						return
					case <-fixture:
						wg.Go(func() { <-stop })
					}
				}
			})
			spawned, ran := make(chan struct{}, 1), make(chan struct{})
			t.Run("other", func(t *testing.T) {
				t.Parallel()
				wg.Go(func() {
					tick := time.NewTicker(5 * time.Millisecond) // load, not synchronisation: one more goroutine per tick
					defer tick.Stop()
					for {
						select {
						case <-ran:
							return
						case <-tick.C:
							if whose == "its own" {
								wg.Go(func() { <-stop })
							} else {
								select { // the fixture ends once the cleanup closes stop
								case fixture <- struct{}{}:
								case <-stop:
									return
								}
							}
							select {
							case spawned <- struct{}{}:
							default:
							}
						}
					}
				})
				<-ran
			})
			t.Run("run", func(t *testing.T) {
				t.Parallel()
				defer close(ran)
				<-spawned // the other test runs
				properties.Run(t, reference, properties.Properties("leaks"), properties.Checks(3))
			})
		})
	}
}
