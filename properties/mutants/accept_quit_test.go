package mutants

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestAcceptQuitStops: one temporary accept error and Serve returns it, with
// no cancel, and the listener is closed (the others retry:
// TestTemporaryAcceptErrors).
func TestAcceptQuitStops(t *testing.T) {
	t.Parallel()
	m, _ := Lookup("accept-quit")
	r := start(t, m, failAccepts(1))
	select {
	case err := <-r.errc:
		var op *net.OpError
		if !errors.As(err, &op) || !isTemporary(err) {
			t.Fatalf("Serve returned %v, want the temporary accept error", err)
		}
		r.errc <- err // for stop at cleanup
	case <-time.After(bound):
		t.Fatal("Serve is still running after a temporary accept error")
	}
	if c, err := net.Dial("tcp", r.addr); err == nil {
		c.Close()
		t.Fatal("dial succeeded after the server stopped")
	}
}
