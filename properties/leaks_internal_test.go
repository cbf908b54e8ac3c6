package properties

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/properties/internal/stacks"
)

// goleakIDs reads the IDs out of goleak's own error, as the goleak this
// module requires words it: were it worded otherwise, findLeaks would
// report goleak's error as it is (never nothing).
func TestGoleakIDsReadsGoleaksError(t *testing.T) {
	base := goleak.IgnoreCurrent()
	before := stacks.IDs()
	stop := make(chan struct{})
	go func() { <-stop }()
	defer close(stop)
	var id string
	for g := range stacks.IDs() {
		if !before[g] {
			id = g
		}
	}
	if id == "" {
		t.Fatal("the new goroutine is not in the dump")
	}
	err := goleak.Find(base)
	if err == nil {
		t.Fatal("goleak found no leak")
	}
	if ids := goleakIDs(err.Error()); len(ids) != 1 || !ids[id] {
		t.Errorf("goleakIDs = %v, want only %s, from:\n%v", ids, id, err)
	}
}
