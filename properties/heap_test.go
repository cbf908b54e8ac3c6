package properties_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/properties"
)

// The heap check's slack scales with what stalled clients are owed, so an
// unbounded queue fails whatever its message size: the broker that queues
// for stalled subscribers without bound fails bounded with 8-byte and
// 1 KiB messages (with a fixed 256 KiB slack, the 8-byte one passed).
// (A broker that evicts a client whose write blocked for 200 ms is not a
// bounded one at 8-byte messages: within those 200 ms it queues what a
// whole measurement owes, and fails, as it should unless it declares what
// it holds; so it is not used here as the passing case. TestReference and
// the examples are.)

const heapEnv = "STALLPROOF_HEAP_CHILD" // "unbounded 8", "unbounded 1024"

func TestHeapChild(t *testing.T) {
	arg := os.Getenv(heapEnv)
	if arg == "" {
		t.Skip("runs only as a child of TestHeapSlackScales")
	}
	var kind string
	var size int
	if _, err := fmt.Sscan(arg, &kind, &size); err != nil {
		t.Fatal(err)
	}
	b := &broker{}
	properties.Run(t, b.Serve, properties.WithProtocol(brokerProtocolSized(size)),
		properties.Properties("bounded"), properties.Checks(3))
}

func TestHeapSlackScales(t *testing.T) {
	if os.Getenv(heapEnv) != "" || os.Getenv(evictEnv) != "" || os.Getenv(mutantEnv) != "" || os.Getenv(policyEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel()
	for _, kind := range []string{"unbounded"} {
		for _, size := range []int{8, 1024} {
			t.Run(kind+"-"+strconv.Itoa(size), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
				defer cancel()
				cmd := childTest(ctx, "^TestHeapChild$", fmt.Sprintf("%s=%s %d", heapEnv, kind, size))
				out, err := cmd.CombinedOutput()
				onHeap := strings.Contains(string(out), "heap grew by")
				if !onHeap {
					t.Fatalf("a broker that queues without bound, %d-byte messages: want bounded to fail on its heap (failed: %v):\n%s", size, err != nil, out)
				}
			})
		}
	}
}
