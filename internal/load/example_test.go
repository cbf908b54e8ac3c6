package load_test

import (
	"fmt"
	"time"

	"github.com/stallproof/stallproof/internal/load"
)

// A histogram of ack latencies: quantiles are nearest-rank values,
// reported as the upper bound of their bucket (at most 3.125 % high).
func ExampleHist() {
	var h load.Hist
	for range 98 {
		h.Record(100 * time.Microsecond)
	}
	h.Record(5 * time.Millisecond)
	h.Record(time.Second)
	fmt.Println(h.Count(), h.Quantile(0.5), h.Quantile(0.99), h.Max())
	fmt.Printf("%.0f votes/s\n", load.Rate(h.Count(), 2*time.Second))
	// Output:
	// 100 100.351µs 5.111807ms 1.006632959s
	// 50 votes/s
}
