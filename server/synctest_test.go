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
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, Config{Options: longOptions()})
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
		v.vote(v.opts[0]) // the others carry on

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
