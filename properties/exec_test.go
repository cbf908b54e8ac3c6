package properties_test

import (
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/mutants"
	"github.com/stallproof/stallproof/server"
)

// needNamespaces skips t where RunExec cannot make a network namespace
// (it needs root); RunExec itself would fail there, with the remedy.
func needNamespaces(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("RunExec makes network namespaces, which needs root")
	}
}

// serveCommand is the command that serves name ("reference" or a
// mutant's) on $ADDR: this test binary (TestMain).
func serveCommand(t *testing.T, name string) []string {
	t.Setenv(serveEnv, name)
	return []string{os.Args[0], "-test.run=^$"}
}

// Through RunExec the server runs in another process whose socket buffers
// are small: the mutants that a server's 4 MiB loopback send buffer hides
// from RunAddr (serial-writes, forgotten-subscriber) are caught, as is
// lock-across-write, each by the property named first in its Caught list.
func TestExecMutants(t *testing.T) {
	t.Parallel() // children of the test binary: they overlap the other parallel tests
	needNamespaces(t)
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	for _, name := range []string{"serial-writes", "forgotten-subscriber", "lock-across-write"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, ok := mutants.Lookup(name)
			if !ok {
				t.Fatalf("no mutant %q", name)
			}
			want := m.Caught[0]
			start := time.Now()
			failed, detect, steps, out := caughtVia(t, m, []string{want}, "exec")
			t.Logf("%s through RunExec: caught by %v in %v (first violation after %s, shrunk to %s steps)",
				name, failed, time.Since(start).Round(time.Millisecond), detect, steps)
			if !slices.Contains(failed, want) {
				t.Errorf("mutant %s through RunExec: %s passed (failed: %v):\n%s", name, want, failed, tail(out))
			}
		})
	}
}

// The reference server passes through RunExec.
func TestExecReference(t *testing.T) {
	needNamespaces(t)
	properties.RunExec(t, serveCommand(t, "reference"), properties.Checks(5),
		properties.Properties("progress", "delivery", "isolation", "bounded", "consistency"))
}

// evicting is the NATS-like broker of broker_test.go with a write
// deadline of a second: it closes a client whose writes block that long.
func evicting(ctx context.Context, ln net.Listener) error {
	b := &broker{writeDeadline: time.Second, maxPending: 1 << 20}
	return b.Serve(ctx, ln)
}

// A server in RunExec's namespace that evicts its stalled clients, as it
// declares, passes bounded: the suite sees the evictions through the
// splice, inside the namespace (before it read the namespace's table, it
// never saw them, whatever the deadline). The broker evicts a second after
// a write blocks; it declares three, for the time its buffers take to fill
// and the splice takes to notice, on a loaded machine.
func TestExecDeclaredEviction(t *testing.T) {
	needNamespaces(t)
	properties.RunExec(t, serveCommand(t, "evicting"), properties.Checks(3),
		properties.WithProtocol(brokerProtocol()), properties.Properties("bounded"),
		properties.SlowConsumers(properties.Evict(3*time.Second)), properties.HeapPerStalledClient(1<<20))
}

// referenceEvicting is the reference server closing a client whose write
// has blocked for a second.
func referenceEvicting(ctx context.Context, ln net.Listener) error {
	s, err := server.New(server.Config{DrainTimeout: 100 * time.Millisecond, WriteTimeout: time.Second})
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// The reference server, evicting after a second, passes Evict(2s) through
// RunExec: the time counts from when its writes to a stalled client were
// made to block. It paces its pushes and keeps one pending tally for a
// stalled client, so when the time counted from the start of the wait,
// the spliced client's buffers were not full by then and a server that
// keeps its promise failed.
func TestExecReferenceEvicts(t *testing.T) {
	needNamespaces(t)
	properties.RunExec(t, serveCommand(t, "reference-evicting"), properties.Checks(2),
		properties.Properties("bounded"), properties.SlowConsumers(properties.Evict(2*time.Second)))
}

// crashEnv makes TestExecCrashChild run: RunExec against a server that
// exits while the suite runs.
const crashEnv = "STALLPROOF_EXEC_CRASH"

func TestExecCrashChild(t *testing.T) {
	if os.Getenv(crashEnv) == "" {
		t.Skip("runs only as a child of TestExecCrash")
	}
	properties.RunExec(t, serveCommand(t, "crash"), properties.Properties("progress"), properties.Checks(2))
}

// A server that exits while the suite runs fails the check, with its exit
// status and the last lines of its output in the report.
func TestExecCrash(t *testing.T) {
	needNamespaces(t)
	if os.Getenv(crashEnv) != "" {
		t.Skip("in a child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := childTest(ctx, "^TestExecCrashChild$", crashEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a server that exited:\n%s", tail(out))
	}
	for _, want := range []string{"--- FAIL: TestExecCrashChild/progress", "exited: exit status 3", "crash: out of luck on the third connection"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the child's output does not say %q:\n%s", want, tail(out))
		}
	}
}
