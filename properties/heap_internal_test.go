package properties

import (
	"slices"
	"testing"
)

// leastHeap measures again only a growth over the limit, twice at most,
// each time after settling, and the smallest measure counts: a transient
// excess (in flight when measured) passes, a lasting one is still judged.
func TestLeastHeapMeasuresAgainOverTheLimit(t *testing.T) {
	const before, limit = 1000, 100
	for _, tc := range []struct {
		name      string
		after     uint64
		again     []uint64 // what the heap measures, in turn, after settling
		wantLeast uint64
		wantAgain int
	}{
		{"under the limit: not measured again", before + 60, nil, before + 60, 0},
		{"at the limit: not measured again", before + limit, nil, before + limit, 0},
		{"in flight: settles under the limit", before + 500, []uint64{before + 20}, before + 20, 1},
		{"lasting: measured twice, still over", before + 500, []uint64{before + 510, before + 505}, before + 500, 2},
		{"settling slowly: the smallest counts", before + 500, []uint64{before + 300, before + 150}, before + 150, 2},
		{"second measure under the limit", before + 500, []uint64{before + 300, before + 90}, before + 90, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var settled, measured int
			heap := func() uint64 {
				if measured >= len(tc.again) {
					t.Fatalf("measured %d times, want %d at most", measured+1, len(tc.again))
				}
				if measured >= settled {
					t.Fatal("measured again before settling")
				}
				measured++
				return tc.again[measured-1]
			}
			least, again := leastHeap(before, tc.after, limit, heap, func() { settled++ })
			if least != tc.wantLeast || again != tc.wantAgain {
				t.Errorf("leastHeap = %d, measured again %d times; want %d, %d times (measures %v)",
					least, again, tc.wantLeast, tc.wantAgain, slices.Concat([]uint64{tc.after}, tc.again))
			}
			if settled != again || measured != again {
				t.Errorf("settled %d times, measured %d times, for %d measures again", settled, measured, again)
			}
		})
	}
}
