package server

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// TestDefaultWriteTimeoutVirtual checks the default configuration's
// eviction of a stalled client, after the default 10 s write timeout, in
// virtual time: the in-memory network blocks only on sync.Cond and
// time.AfterFunc timers, so the whole server runs inside a synctest bubble
// and ten seconds pass in no real time.
func TestDefaultWriteTimeoutVirtual(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// No broadcast pacing: in a bubble the clock stands still while the
		// voter below votes in a tight loop, so a paced broadcaster would
		// never get to push the tallies that fill the stalled client.
		s := newServer(t, Config{Options: longOptions(), BroadcastInterval: -1})
		ln := faultnet.Listen(faultnet.BufferSize(16 << 10))
		errc := make(chan error, 1)
		go func() { errc <- s.Serve(context.Background(), ln) }()
		e := &env{s: s, ln: ln, tr: transports[0]}

		stalled := e.dial(t)
		stall(stalled)
		v := e.dial(t)
		fillStalled(t, e, v, []*client{stalled})
		synctest.Wait()
		t0 := time.Now()
		if st := s.Stats(); st.Evictions.WriteTimeout != 0 {
			t.Fatalf("evicted before the write timeout: %+v", st.Evictions)
		}
		time.Sleep(DefaultWriteTimeout - time.Millisecond)
		synctest.Wait()
		if n := s.Stats().Evictions.WriteTimeout; n != 0 {
			t.Fatalf("evicted after %v", time.Since(t0))
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if n := s.Stats().Evictions.WriteTimeout; n != 1 {
			t.Fatalf("not evicted %v after its write blocked", time.Since(t0))
		}
		v.vote(v.Options()[0]) // the others carry on

		s.Close()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

// TestDefaultLineTimeoutVirtual checks the default slowloris bound in
// virtual time: a started line is given DefaultLineTimeout, an idle client
// is never timed out.
func TestDefaultLineTimeoutVirtual(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, Config{})
		ln := faultnet.Listen()
		errc := make(chan error, 1)
		go func() { errc <- s.Serve(context.Background(), ln) }()
		e := &env{s: s, ln: ln, tr: transports[0]}

		idle := e.dial(t)
		slow := e.dial(t)
		slow.send("VOTE re")
		synctest.Wait()
		time.Sleep(DefaultLineTimeout - time.Millisecond)
		synctest.Wait()
		if n := s.Stats().Closed.LineTimeout; n != 0 {
			t.Fatalf("closed before the line timeout")
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if n := s.Stats().Closed.LineTimeout; n != 1 {
			t.Fatalf("a line started %v ago is still waited for", DefaultLineTimeout+time.Millisecond)
		}
		time.Sleep(time.Hour)
		idle.vote("red") // idle for an hour, and still served

		s.Close()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

// TestAcceptBackoffVirtual checks the accept loop's back-off on temporary
// errors exactly, in virtual time: 5 ms doubling to at most 1 s, and back
// to 5 ms after a success.
func TestAcceptBackoffVirtual(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, Config{})
		ln := faultnet.Listen()
		e := &env{s: s, ln: ln, tr: transports[0]}
		ln.FailAccepts(9)
		t0 := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- s.Serve(context.Background(), ln) }()

		e.dial(t).vote("red")
		// Errors at 0, 5, 15, 35, 75, 155, 315, 635 and 1275 ms; the
		// delay after the ninth is capped at 1 s.
		if got, want := time.Since(t0), 2275*time.Millisecond; got != want {
			t.Fatalf("first client accepted after %v, want %v", got, want)
		}
		ln.FailAccepts(2)
		synctest.Wait() // both errors taken: the loop sleeps 5 then 10 ms
		t1 := time.Now()
		e.dial(t).vote("green")
		if got, want := time.Since(t1), 15*time.Millisecond; got > want {
			t.Fatalf("second client accepted after %v: the back-off was not reset", got)
		}
		if n := s.Stats().AcceptErrors; n != 11 {
			t.Fatalf("AcceptErrors = %d, want 11", n)
		}
		s.Close()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}
