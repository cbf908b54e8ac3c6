package properties_test

import (
	"bufio"
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/server"
)

// TestEvictionInVirtualTime runs the reference server on faultnet's
// in-memory network inside a testing/synctest bubble: the default 10 s
// write timeout that evicts a stalled client passes in no real time.
//
// The trap, and why Run's VirtualTime watches its bubbles from outside: the
// fake clock advances only when every goroutine in the bubble is durably
// blocked, and a goroutine waiting for a sync.Mutex is not. A server frozen
// with one goroutine in Write and the others in Mutex.Lock therefore stops
// the clock: a test would hang instead of failing. Run's watchdog gives
// such a bubble up and goes on in real time (TestVirtualTimeGivesUpOnALockWait).
func TestEvictionInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// WriteTimeout: the default 10 s. No broadcast pacing: the clock
		// stands still while the voter below votes in a tight loop, so a
		// paced broadcaster would never push the tallies that fill the
		// stalled client's buffer.
		srv, err := server.New(server.Config{BroadcastInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		ln := faultnet.Listen(faultnet.BufferSize(1 << 10))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, ln) }()

		stalled, err := ln.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stalled.Inject(faultnet.StallReads())
		voter, err := ln.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(voter)
		start := time.Now()
		// Vote until the tallies pushed to the stalled client fill its
		// 1 KiB buffer and the server's write to it blocks (conflation sends
		// fewer tallies than votes). The server's end logs the moment.
		for i := 0; !bufferFull(stalled.Peer()); i++ {
			if i == 100_000 {
				t.Fatalf("the stalled client's buffer never filled: %+v", stalled.Stats())
			}
			if _, err := voter.Write([]byte("VOTE red\n")); err != nil {
				t.Fatal(err)
			}
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if line[:2] == "OK" {
					break
				}
			}
		}
		synctest.Wait() // every goroutine is blocked: the stalled write among them
		if ev := srv.Stats().Evictions.WriteTimeout; ev != 0 {
			t.Fatalf("evicted before the write timeout: %d", ev)
		}
		time.Sleep(server.DefaultWriteTimeout + time.Second) // virtual: no real time passes
		synctest.Wait()
		if ev := srv.Stats().Evictions.WriteTimeout; ev != 1 {
			t.Fatalf("after %v of a stalled write, %d write-timeout evictions, want 1", time.Since(start), ev)
		}
		stalled.Close()
		voter.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

// bufferFull reports whether a Write on c has blocked on a full buffer.
func bufferFull(c *faultnet.Conn) bool {
	for _, e := range c.Events() {
		if e.Kind == faultnet.EventBufferFull {
			return true
		}
	}
	return false
}
