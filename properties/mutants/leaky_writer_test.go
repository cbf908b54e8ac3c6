package mutants

import (
	"bytes"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// TestLeakyWriterLeaks: after clients quit and see the server close their
// connections, their writer goroutines are still there; they end only when
// the server stops.
func TestLeakyWriterLeaks(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("leaky-writer")
	r := start(t, m)
	const n = 5
	for range n {
		c := dial(t, r.addr)
		c.send("VOTE red\n", "QUIT\n")
		c.expect(wire.MsgOK)
		c.expect(wire.MsgBye)
		c.expectEOF()
	}
	// At least: the leaked writers of servers stopped by earlier tests may
	// not have ended yet.
	if got := countGoroutines("mutants.leakedWriter"); got < n {
		t.Fatalf("%d writers running after %d clients left, want %d (leaked)", got, n, n)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(bound); countGoroutines("mutants.leakedWriter") > 0; {
		if time.Now().After(deadline) {
			t.Fatal("leaked writers still running after the server stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countGoroutines counts the goroutines with a frame whose function name
// contains fn.
func countGoroutines(fn string) int {
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 2) // every stack, as in a panic
	count := 0
	for _, g := range bytes.Split(buf.Bytes(), []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn+"(")) {
			count++
		}
	}
	return count
}
