package properties_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/mutants"
)

// A server is held to the slow-consumer policy it declares: the
// unbounded-queue mutant keeps every tally for a stalled client, some
// 100–200 KB per stalled client over the bounded property's measurement.
// Declared with room for that, its heap passes bounded; declared below it,
// or not declared (strict), bounded fails on its heap.

const policyEnv = "STALLPROOF_POLICY_CHILD"

// TestPolicyChild runs bounded against unbounded-queue with the allowance
// named by STALLPROOF_POLICY_CHILD; it runs only as a child of
// TestDeclaredPolicy.
func TestPolicyChild(t *testing.T) {
	allowance := os.Getenv(policyEnv)
	if allowance == "" {
		t.Skip("runs only as a child of TestDeclaredPolicy")
	}
	m, _ := mutants.Lookup("unbounded-queue")
	opts := []properties.Option{properties.Properties("bounded"), properties.Checks(3)}
	switch allowance {
	case "strict":
	case "small":
		opts = append(opts, properties.HeapPerStalledClient(16<<10))
	case "large":
		opts = append(opts, properties.HeapPerStalledClient(4<<20))
	}
	properties.Run(t, m.Serve, opts...)
}

func TestDeclaredPolicy(t *testing.T) {
	if os.Getenv(policyEnv) != "" || os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel() // children of the test binary: they overlap the other parallel tests
	// heapFails: whether bounded must fail on the heap. (Whatever the
	// allowance, unbounded-queue may also fail bounded's flood check: it
	// queues replies without bound too, which a heap allowance does not
	// excuse; on a slow machine its slow reads can pass for push-back.)
	for allowance, heapFails := range map[string]bool{"strict": true, "small": true, "large": false} {
		t.Run(allowance, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
			defer cancel()
			cmd := childTest(ctx, "^TestPolicyChild$", policyEnv+"="+allowance)
			out, err := cmd.CombinedOutput()
			onHeap := strings.Contains(string(out), "heap grew by")
			switch {
			case heapFails && (err == nil || !onHeap):
				t.Fatalf("unbounded-queue with a %s allowance: want bounded to fail on its heap (failed: %v):\n%s", allowance, err != nil, out)
			case !heapFails && onHeap:
				t.Fatalf("unbounded-queue with a %s allowance failed on its heap, which the allowance covers:\n%s", allowance, out)
			}
		})
	}
}
