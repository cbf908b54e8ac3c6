package faultnet_test

import (
	"context"
	"io"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// The in-memory network blocks only on sync.Cond and channels and wakes on
// time.AfterFunc timers, so it runs inside a synctest bubble on the fake
// clock: these tests take virtual hours and real microseconds, and their
// timings are exact.

func TestSynctestLatencyInVirtualTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t)
		c.Inject(faultnet.Latency(10*time.Second, 0))
		start := time.Now()
		c.Write([]byte("late"))
		if el := time.Since(start); el != 0 {
			t.Errorf("Write took %v of virtual time, want 0 (latency is in flight)", el)
		}
		buf := make([]byte, 10)
		n, err := s.Read(buf)
		if n != 4 || err != nil {
			t.Fatalf("Read = %d, %v", n, err)
		}
		if el := time.Since(start); el != 10*time.Second {
			t.Errorf("bytes arrived after %v, want exactly 10s", el)
		}
	})
}

func TestSynctestLatencyJitterKeepsOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t, faultnet.Seed(1))
		const d, j = time.Second, 500 * time.Millisecond
		c.Inject(faultnet.Latency(d, j))
		start := time.Now()
		for i := range 20 {
			c.Write([]byte{byte(i)})
			time.Sleep(100 * time.Millisecond) // virtual: spaces the writes
		}
		buf := make([]byte, 1)
		for i := range 20 {
			if _, err := s.Read(buf); err != nil || buf[0] != byte(i) {
				t.Fatalf("byte %d: got %d, %v", i, buf[0], err)
			}
			// Readable no earlier than its own d-j, and never before an earlier byte.
			if el := time.Since(start); el < time.Duration(i)*100*time.Millisecond+d-j {
				t.Errorf("byte %d arrived at %v", i, el)
			}
		}
		if el := time.Since(start); el > 19*100*time.Millisecond+d+j {
			t.Errorf("last byte arrived at %v, later than its d+j", el)
		}
	})
}

func TestSynctestDeadlineOnStalledRead(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t)
		s.Inject(faultnet.StallReads())
		c.Write([]byte("x"))
		start := time.Now()
		s.SetReadDeadline(start.Add(time.Hour))
		_, err := s.Read(make([]byte, 1))
		wantTimeout(t, err)
		if el := time.Since(start); el != time.Hour {
			t.Errorf("timed out after %v, want exactly 1h", el)
		}
		if rb := s.Stats().ReadBlocked; rb != time.Hour {
			t.Errorf("ReadBlocked = %v, want 1h", rb)
		}
	})
}

func TestSynctestTricklePacingExact(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t)
		s.Inject(faultnet.TrickleReads(1, 100*time.Millisecond))
		c.Write(pattern(10))
		start := time.Now()
		var at []time.Duration
		buf := make([]byte, 10)
		for range 10 {
			if n, err := s.Read(buf); n != 1 || err != nil {
				t.Fatalf("Read = %d, %v", n, err)
			}
			at = append(at, time.Since(start))
		}
		for i, d := range at {
			if want := time.Duration(i) * 100 * time.Millisecond; d != want {
				t.Errorf("read %d at %v, want %v", i, d, want)
			}
		}
	})
}

func TestSynctestBandwidthExact(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t)
		c.Inject(faultnet.Bandwidth(1000)) // steps of 20 bytes, 20 ms apart
		start := time.Now()
		if n, err := c.Write(pattern(100)); n != 100 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if el := time.Since(start); el != 80*time.Millisecond {
			t.Errorf("100 bytes at 1000 B/s took %v, want 80ms (5 steps, the last unpaced)", el)
		}
		readN(t, s, 100)
	})
}

// TestSynctestTrickleWritesExact is the exact form of the real-clock
// lower bound in TestTrickleWritesAndBandwidth: 30 bytes in pieces of 3
// every 4 ms take exactly 9 gaps, and the reader sees the pieces.
func TestSynctestTrickleWritesExact(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t)
		c.Inject(faultnet.TrickleWrites(3, 4*time.Millisecond))
		start := time.Now()
		if n, err := c.Write(pattern(30)); n != 30 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if el := time.Since(start); el != 36*time.Millisecond {
			t.Errorf("30 bytes trickled 3 per 4 ms took %v, want 36ms", el)
		}
		if st := c.Stats(); st.WriteBlocked != 36*time.Millisecond {
			t.Errorf("WriteBlocked = %v, want 36ms", st.WriteBlocked)
		}
		got := readN(t, s, 30)
		if string(got) != string(pattern(30)) {
			t.Fatal("data differs")
		}
	})
}

func TestSynctestWriterBlocksAtBufferSize(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t, faultnet.BufferSize(1000))
		done := make(chan ioResult, 1)
		go func() {
			n, err := c.Write(pattern(3000))
			done <- ioResult{n, err}
		}()
		synctest.Wait() // the writer is durably blocked
		if st := c.Stats(); st.Written != 1000 || st.Unsent != 1000 {
			t.Fatalf("blocked writer: %+v", st)
		}
		select {
		case r := <-done:
			t.Fatalf("Write returned %d, %v", r.n, r.err)
		default:
		}
		got := make([]byte, 0, 3000)
		buf := make([]byte, 700)
		for len(got) < 3000 {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n]...)
		}
		if r := <-done; r.n != 3000 || r.err != nil {
			t.Fatalf("Write = %d, %v", r.n, r.err)
		}
	})
}

func TestSynctestAfterTimeAndListener(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ln := faultnet.Listen(faultnet.Backlog(1))
		defer ln.Close()
		ln.PauseAccept()
		c, err := ln.Dial(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		accepted := make(chan *faultnet.Conn, 1)
		go func() {
			s, err := ln.Accept()
			if err != nil {
				t.Errorf("Accept: %v", err)
				accepted <- nil
				return
			}
			accepted <- s.(*faultnet.Conn)
		}()
		synctest.Wait()
		if ln.Accepted() != 0 {
			t.Fatal("paused listener accepted")
		}
		ln.ResumeAccept()
		s := <-accepted
		if s == nil {
			return
		}
		defer s.Close()
		start := time.Now()
		c.Inject(faultnet.AfterTime(5*time.Second, faultnet.Reset()))
		_, err = io.ReadAll(s)
		wantErrno(t, err, "read", syscall.ECONNRESET)
		if el := time.Since(start); el != 5*time.Second {
			t.Errorf("reset after %v, want exactly 5s", el)
		}
	})
}

func TestSynctestAfterTimeRemoved(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, s := memoryPair(t)
		inj := c.Inject(faultnet.AfterTime(time.Second, faultnet.Reset()))
		time.Sleep(999 * time.Millisecond)
		inj.Remove()
		time.Sleep(time.Hour)
		if inj.Fired() {
			t.Fatal("removed schedule fired")
		}
		c.Write([]byte("ok"))
		if got := readN(t, s, 2); string(got) != "ok" {
			t.Fatalf("read %q", got)
		}
	})
}

func TestSynctestDeadlineExtendedWhileBlocked(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, _ := memoryPair(t)
		start := time.Now()
		c.SetReadDeadline(start.Add(time.Second))
		r := readAsync(c, make([]byte, 1))
		synctest.Wait()
		c.SetReadDeadline(start.Add(time.Hour))
		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case got := <-r:
			t.Fatalf("Read returned %d, %v after the old deadline", got.n, got.err)
		default:
		}
		got := <-r
		wantTimeout(t, got.err)
		if el := time.Since(start); el != time.Hour {
			t.Errorf("timed out at %v, want the new deadline, 1h", el)
		}
	})
}
