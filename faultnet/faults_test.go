package faultnet_test

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stallproof/stallproof/faultnet"
)

func TestStallReadsBlocksPeerWriter(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t, faultnet.BufferSize(4096))
		inj := s.Inject(faultnet.StallReads())
		total := fillUntilBlocked(t, c)
		if tr.memory && total != 4096 {
			t.Errorf("writer blocked after %d bytes, want exactly 4096", total)
		}
		if !tr.memory && (total < 4096 || total > 1<<20) {
			t.Errorf("writer blocked after %d bytes, want tens of KiB", total)
		}
		// The stalled reader sees nothing, though data waits.
		s.SetReadDeadline(time.Now().Add(blockWait))
		n, err := s.Read(make([]byte, 10))
		if n != 0 {
			t.Fatalf("stalled Read returned %d bytes", n)
		}
		wantTimeout(t, err)
		// A blocked Read resumes when the stall is removed.
		s.SetReadDeadline(time.Time{})
		r := readAsync(s, make([]byte, 1))
		stillBlocked(t, r, "stalled Read")
		inj.Remove()
		inj.Remove() // idempotent
		if got := await(t, r); got.n != 1 || got.err != nil {
			t.Fatalf("Read after Remove = %d, %v", got.n, got.err)
		}
		if got := readN(t, s, total-1); !bytes.Equal(got, bytes.Repeat([]byte{0}, total-1)) {
			t.Fatal("data differs")
		}
	})
}

func TestStallReadsRemoveUnblocksPeerWriter(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t, faultnet.BufferSize(1000))
		inj := s.Inject(faultnet.StallReads())
		want := pattern(96 << 10)
		w := writeAsync(c, want)
		stillBlocked(t, w, "Write to a stalled reader")
		inj.Remove()
		got := readN(t, s, len(want))
		if r := await(t, w); r.n != len(want) || r.err != nil {
			t.Fatalf("Write = %d, %v", r.n, r.err)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("data differs")
		}
	})
}

func TestBlockWrites(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		inj := c.Inject(faultnet.BlockWrites())
		c.SetWriteDeadline(time.Now().Add(blockWait))
		n, err := c.Write([]byte("x"))
		if n != 0 {
			t.Fatalf("blocked Write sent %d bytes", n)
		}
		wantTimeout(t, err)
		c.SetWriteDeadline(time.Time{})
		// Reads still work: only the write side is blocked.
		s.Write([]byte("ok"))
		if got := readN(t, c, 2); string(got) != "ok" {
			t.Fatalf("read %q", got)
		}
		w := writeAsync(c, []byte("later"))
		stillBlocked(t, w, "blocked Write")
		inj.Remove()
		if r := await(t, w); r.n != 5 || r.err != nil {
			t.Fatalf("Write after Remove = %d, %v", r.n, r.err)
		}
		if got := readN(t, s, 5); string(got) != "later" {
			t.Fatalf("read %q", got)
		}
	})
}

func TestShortReads(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		s.Inject(faultnet.ShortReads(1))
		want := pattern(50)
		c.Write(want)
		var got []byte
		buf := make([]byte, 100)
		s.SetReadDeadline(time.Now().Add(liveness))
		for len(got) < len(want) {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("Read returned %d bytes, want 1", n)
			}
			got = append(got, buf[:n]...)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("data differs")
		}
	})
}

func TestShortWritesFragmentsReachTheReader(t *testing.T) {
	t.Parallel()
	// In memory the reader sees each fragment as a separate Read even if it
	// reads late; over TCP only the writes are split (the kernel may merge
	// segments a late reader finds waiting), so use a synchronous inner conn.
	t.Run("memory", func(t *testing.T) {
		c, s := memoryPair(t)
		c.Inject(faultnet.ShortWrites(3))
		if n, err := c.Write(pattern(10)); n != 10 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		var sizes []int
		buf := make([]byte, 100)
		for total := 0; total < 10; {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, n)
			total += n
		}
		assert.Equal(t, []int{3, 3, 3, 1}, sizes, "read sizes")
	})
	t.Run("wrapped", func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := faultnet.Wrap(a, faultnet.WithFaults(faultnet.ShortWrites(3)))
		defer c.Close()
		w := writeAsync(c, pattern(10))
		var sizes []int
		buf := make([]byte, 100)
		for total := 0; total < 10; {
			n, err := b.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, n)
			total += n
		}
		if r := await(t, w); r.n != 10 || r.err != nil {
			t.Fatalf("Write = %d, %v", r.n, r.err)
		}
		assert.Equal(t, []int{3, 3, 3, 1}, sizes, "inner write sizes")
	})
}

// randomReadSizes returns the sizes of the Reads of 400 bytes under
// RandomShortReads(16) with the given seed.
func randomReadSizes(t *testing.T, tr transport, seed uint64) []int {
	t.Helper()
	c, s := tr.pair(t, faultnet.Seed(seed))
	s.Inject(faultnet.RandomShortReads(16))
	want := pattern(400)
	if _, err := c.Write(want); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	var sizes []int
	var got []byte
	buf := make([]byte, 100)
	s.SetReadDeadline(time.Now().Add(liveness))
	for {
		n, err := s.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < 1 || n > 16 {
			t.Fatalf("Read returned %d bytes, want 1..16", n)
		}
		sizes = append(sizes, n)
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("data differs")
	}
	return sizes
}

func TestRandomShortReadsReplayWithSeed(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		a := randomReadSizes(t, tr, 42)
		b := randomReadSizes(t, tr, 42)
		assert.Equal(t, a, b, "read sizes with the same seed")
		assert.NotEqual(t, a, randomReadSizes(t, tr, 43), "read sizes with seeds 42 and 43")
		distinct := map[int]bool{}
		for _, n := range a {
			distinct[n] = true
		}
		if len(distinct) < 4 {
			t.Errorf("sizes %v hardly vary", a)
		}
	})
}

func TestRandomShortWritesReplayWithSeed(t *testing.T) {
	t.Parallel()
	sizes := func(seed uint64) []int {
		c, s := memoryPair(t, faultnet.Seed(seed))
		c.Inject(faultnet.RandomShortWrites(16))
		c.Write(pattern(300))
		c.CloseWrite()
		var out []int
		buf := make([]byte, 100)
		for {
			n, err := s.Read(buf)
			if err == io.EOF {
				return out
			}
			if err != nil || n < 1 || n > 16 {
				t.Fatalf("Read = %d, %v", n, err)
			}
			out = append(out, n)
		}
	}
	a, b, d := sizes(5), sizes(5), sizes(6)
	assert.Equal(t, a, b, "piece sizes with the same seed")
	assert.NotEqual(t, a, d, "piece sizes with seeds 5 and 6")
}

func TestTrickleReads(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		const every = 5 * time.Millisecond
		s.Inject(faultnet.TrickleReads(2, every))
		c.Write(pattern(20))
		start := time.Now()
		got := make([]byte, 0, 20)
		buf := make([]byte, 100)
		s.SetReadDeadline(time.Now().Add(liveness))
		for len(got) < 20 {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			if n > 2 {
				t.Fatalf("Read returned %d bytes, want at most 2", n)
			}
			got = append(got, buf[:n]...)
		}
		if el := time.Since(start); el < 9*every {
			t.Errorf("10 paced reads took %v, want at least %v", el, 9*every)
		}
		if !bytes.Equal(got, pattern(20)) {
			t.Fatal("data differs")
		}
	})
}

func TestTrickleWritesAndBandwidth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		f       faultnet.Fault
		size    int
		minTime time.Duration
	}{
		{faultnet.TrickleWrites(3, 4*time.Millisecond), 30, 9 * 4 * time.Millisecond},
		{faultnet.Bandwidth(20000), 2000, 80 * time.Millisecond}, // 5 steps of 400 bytes, 20 ms each
	}
	for _, tc := range cases {
		t.Run(tc.f.String(), func(t *testing.T) {
			forEach(t, func(t *testing.T, tr transport) {
				c, s := tr.pair(t)
				c.Inject(tc.f)
				done := make(chan []byte, 1)
				go func() {
					b, _ := io.ReadAll(io.LimitReader(s, int64(tc.size)))
					done <- b
				}()
				start := time.Now()
				if n, err := c.Write(pattern(tc.size)); n != tc.size || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				if el := time.Since(start); el < tc.minTime {
					t.Errorf("Write took %v, want at least %v", el, tc.minTime)
				}
				if wb := c.Stats().WriteBlocked; wb <= 0 {
					t.Errorf("WriteBlocked = %v", wb)
				}
				select {
				case got := <-done:
					if !bytes.Equal(got, pattern(tc.size)) {
						t.Fatal("data differs")
					}
				case <-time.After(liveness):
					t.Fatal("reader stuck")
				}
			})
		})
	}
}

func TestLatencyNeverReorders(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t, faultnet.Seed(3))
		c.Inject(faultnet.Latency(time.Millisecond, time.Millisecond))
		const chunks = 60
		done := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(io.LimitReader(s, chunks*10))
			done <- b
		}()
		for i := range chunks {
			if _, err := c.Write(bytes.Repeat([]byte{byte(i)}, 10)); err != nil {
				t.Fatal(err)
			}
		}
		got := <-done
		for i := range chunks {
			if !bytes.Equal(got[i*10:i*10+10], bytes.Repeat([]byte{byte(i)}, 10)) {
				t.Fatalf("chunk %d out of order: %v", i, got[i*10:i*10+10])
			}
		}
	})
}

func TestLatencyDelays(t *testing.T) {
	t.Parallel()
	const d = 40 * time.Millisecond
	t.Run("memory: in flight, the writer does not wait", func(t *testing.T) {
		// Exact timings are in TestSynctestLatencyInVirtualTime.
		c, s := memoryPair(t)
		c.Inject(faultnet.Latency(time.Hour, 0))
		if n, err := c.Write([]byte("x")); n != 1 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if u := s.Stats().Unread; u != 1 {
			t.Errorf("delayed byte not buffered: Unread = %d", u)
		}
		s.SetReadDeadline(time.Now().Add(blockWait))
		n, err := s.Read(make([]byte, 1))
		if n != 0 {
			t.Fatal("a byte delayed by an hour arrived")
		}
		wantTimeout(t, err)
	})
	t.Run("tcp: the writer waits", func(t *testing.T) {
		c, s := tcpPair(t)
		c.Inject(faultnet.Latency(d, 0))
		start := time.Now()
		c.Write([]byte("x"))
		if el := time.Since(start); el < d {
			t.Errorf("Write returned after %v, want at least %v", el, d)
		}
		readN(t, s, 1)
	})
}

func TestResetBothEnds(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		c.Write([]byte("lost?"))
		inj := c.Inject(faultnet.Reset())
		if !inj.Fired() {
			t.Error("Reset not fired on injection")
		}
		// The peer reads ECONNRESET (data in flight may be lost, as in TCP).
		_, err := readAll(s)
		wantErrno(t, err, "read", syscall.ECONNRESET)
		_, err = c.Read(make([]byte, 1))
		wantErrno(t, err, "read", syscall.ECONNRESET)
		_, err = c.Write([]byte("x"))
		wantErrno(t, err, "write", syscall.ECONNRESET)
		// The peer's writes fail too (Linux: EPIPE once the RST arrived).
		_, err = s.Write([]byte("x"))
		wantErrno(t, err, "write", syscall.ECONNRESET, syscall.EPIPE)
		if !hasEvent(c, faultnet.EventReset) {
			t.Errorf("no reset event: %v", c.Events())
		}
	})
}

func hasEvent(c *faultnet.Conn, k faultnet.EventKind) bool {
	for _, e := range c.Events() {
		if e.Kind == k {
			return true
		}
	}
	return false
}

func TestCloseFault(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		c.Write([]byte("bye"))
		c.Inject(faultnet.Hangup())
		got, err := readAll(s)
		if string(got) != "bye" || err != io.EOF {
			t.Fatalf("peer read %q, %v; want bye, EOF", got, err)
		}
		_, err = c.Read(make([]byte, 1))
		if !isClosed(err) {
			t.Errorf("Read after Close: %v", err)
		}
	})
}

func TestHalfCloseBothWays(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		for _, viaFault := range []bool{false, true} {
			c, s := tr.pair(t)
			c.Write([]byte("request"))
			if viaFault {
				c.Inject(faultnet.HalfCloseWrite())
			} else if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(s)
			if string(got) != "request" || err != io.EOF {
				t.Fatalf("server read %q, %v", got, err)
			}
			_, err = c.Write([]byte("more"))
			wantErrno(t, err, "write", syscall.EPIPE)
			// The other direction keeps flowing, and closes the same way.
			s.Write([]byte("response"))
			s.CloseWrite()
			got, err = readAll(c)
			if string(got) != "response" || err != io.EOF {
				t.Fatalf("client read %q, %v", got, err)
			}
		}
	})
}

func TestCloseRead(t *testing.T) {
	t.Parallel()
	t.Run("memory: the peer's writes fail with EPIPE", func(t *testing.T) {
		for _, viaFault := range []bool{false, true} {
			c, s := memoryPair(t)
			c.Write([]byte("discarded"))
			if viaFault {
				s.Inject(faultnet.HalfCloseRead())
			} else if err := s.CloseRead(); err != nil {
				t.Fatal(err)
			}
			if n, err := s.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Fatalf("Read after CloseRead = %d, %v", n, err)
			}
			_, err := c.Write([]byte("x"))
			wantErrno(t, err, "write", syscall.EPIPE)
			// The other direction still works.
			s.Write([]byte("reply"))
			if got := readN(t, c, 5); string(got) != "reply" {
				t.Fatalf("read %q", got)
			}
		}
	})
	t.Run("tcp: Linux lets the peer keep writing", func(t *testing.T) {
		c, s := tcpPair(t)
		if err := s.CloseRead(); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Fatalf("Read after CloseRead = %d, %v", n, err)
		}
		if n, err := c.Write([]byte("x")); n != 1 || err != nil {
			t.Fatalf("peer Write after CloseRead = %d, %v", n, err)
		}
		s.Write([]byte("reply"))
		if got := readN(t, c, 5); string(got) != "reply" {
			t.Fatalf("read %q", got)
		}
	})
}

func TestAfterReadStallsAtExactByte(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		inj := s.Inject(faultnet.AfterRead(10, faultnet.StallReads()))
		c.Write(pattern(100))
		if inj.Fired() {
			t.Fatal("fired before any read")
		}
		got := readN(t, s, 10)
		if !bytes.Equal(got, pattern(10)) {
			t.Fatal("data differs")
		}
		if !inj.Fired() {
			t.Fatal("not fired after 10 bytes")
		}
		s.SetReadDeadline(time.Now().Add(blockWait))
		n, err := s.Read(make([]byte, 100))
		if n != 0 {
			t.Fatalf("Read after the stall fired returned %d bytes", n)
		}
		wantTimeout(t, err)
		inj.Remove()
		if got := readN(t, s, 90); !bytes.Equal(got, pattern(100)[10:]) {
			t.Fatal("data differs after Remove")
		}
	})
}

func TestAfterWrittenReset(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		c.Inject(faultnet.AfterWritten(1000, faultnet.Reset()))
		n, err := c.Write(pattern(5000))
		if n != 1000 {
			t.Fatalf("Write = %d, want exactly 1000", n)
		}
		wantErrno(t, err, "write", syscall.ECONNRESET)
		if w := c.Stats().Written; w != 1000 {
			t.Errorf("Written = %d", w)
		}
		// The peer gets at most those 1000 bytes (a reset may lose some), then the reset.
		got, err := readAll(s)
		wantErrno(t, err, "read", syscall.ECONNRESET)
		if len(got) > 1000 || !bytes.Equal(got, pattern(1000)[:len(got)]) {
			t.Errorf("peer read %d bytes, want a prefix of the first 1000", len(got))
		}
	})
}

func TestAfterWrittenCloseWriteIsAnExactDataLimit(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		c.Inject(faultnet.AfterWritten(1000, faultnet.HalfCloseWrite()))
		done := make(chan ioResult, 1)
		go func() {
			n, err := c.Write(pattern(5000))
			done <- ioResult{n, err}
		}()
		got, err := readAll(s)
		if err != io.EOF || !bytes.Equal(got, pattern(1000)) {
			t.Fatalf("peer read %d bytes, %v; want exactly 1000 then EOF", len(got), err)
		}
		r := await(t, done)
		if r.n != 1000 {
			t.Errorf("Write = %d, want 1000", r.n)
		}
		wantErrno(t, r.err, "write", syscall.EPIPE)
	})
}

func TestAfterTime(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		inj := c.Inject(faultnet.AfterTime(20*time.Millisecond, faultnet.Reset()))
		_, err := readAll(s)
		wantErrno(t, err, "read", syscall.ECONNRESET)
		if !inj.Fired() {
			t.Error("Fired() = false after the reset")
		}
		// A removed schedule never fires: see TestSynctestAfterTimeRemoved.
	})
}

func TestOnTrigger(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		trig := faultnet.NewTrigger("vote-10")
		inj := s.Inject(faultnet.OnTrigger(trig, faultnet.StallReads()))
		c.Write([]byte("ab"))
		if got := readN(t, s, 1); string(got) != "a" || inj.Fired() {
			t.Fatalf("before Fire: read %q, fired %v", got, inj.Fired())
		}
		trig.Fire()
		if !inj.Fired() {
			t.Fatal("not fired by the time Fire returned")
		}
		trig.Fire() // twice is harmless
		s.SetReadDeadline(time.Now().Add(blockWait))
		_, err := s.Read(make([]byte, 1))
		wantTimeout(t, err)
		// Scheduling on a fired trigger takes effect at once.
		late := c.Inject(faultnet.OnTrigger(trig, faultnet.BlockWrites()))
		if !late.Fired() {
			t.Error("fault on an already fired trigger did not fire at once")
		}
		// Removed before the trigger: never fires.
		trig2 := faultnet.NewTrigger("t2")
		inj2 := s.Inject(faultnet.OnTrigger(trig2, faultnet.Reset()))
		inj2.Remove()
		trig2.Fire()
		if inj2.Fired() {
			t.Error("removed OnTrigger fired")
		}
		inj.Remove()
		if got := readN(t, s, 1); string(got) != "b" {
			t.Fatalf("read %q", got)
		}
	})
}

func TestRemoveUnblocksReaderAndWriter(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		stall := s.Inject(faultnet.StallReads())
		block := s.Inject(faultnet.BlockWrites())
		c.Write([]byte("x"))
		r := readAsync(s, make([]byte, 1))
		w := writeAsync(s, []byte("y"))
		stillBlocked(t, r, "stalled Read")
		stillBlocked(t, w, "blocked Write")
		stall.Remove()
		block.Remove()
		if got := await(t, r); got.n != 1 || got.err != nil {
			t.Errorf("Read = %d, %v", got.n, got.err)
		}
		if got := await(t, w); got.n != 1 || got.err != nil {
			t.Errorf("Write = %d, %v", got.n, got.err)
		}
	})
}

func TestCloseUnblocksStalledCalls(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		_, s := tr.pair(t)
		s.Inject(faultnet.StallReads())
		s.Inject(faultnet.BlockWrites())
		r := readAsync(s, make([]byte, 1))
		w := writeAsync(s, []byte("y"))
		stillBlocked(t, r, "stalled Read")
		s.Close()
		for _, res := range []ioResult{await(t, r), await(t, w)} {
			if res.n != 0 || !isClosed(res.err) {
				t.Errorf("after Close: %d, %v; want net.ErrClosed", res.n, res.err)
			}
		}
	})
}

func TestFaultsStack(t *testing.T) {
	t.Parallel()
	// Two stalls: removing one leaves the other in force.
	c, s := memoryPair(t)
	a := s.Inject(faultnet.StallReads())
	b := s.Inject(faultnet.StallReads())
	c.Write([]byte("x"))
	a.Remove()
	s.SetReadDeadline(time.Now().Add(blockWait))
	if _, err := s.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("Read with one stall left: %v", err)
	}
	b.Remove()
	readN(t, s, 1)
}

func TestFaultStrings(t *testing.T) {
	t.Parallel()
	trig := faultnet.NewTrigger("ack-10")
	cases := []struct {
		f    faultnet.Fault
		want string
	}{
		{faultnet.StallReads(), "StallReads()"},
		{faultnet.BlockWrites(), "BlockWrites()"},
		{faultnet.TrickleReads(1, 10*time.Millisecond), "TrickleReads(1, 10ms)"},
		{faultnet.TrickleWrites(5, time.Second), "TrickleWrites(5, 1s)"},
		{faultnet.Bandwidth(1024), "Bandwidth(1024)"},
		{faultnet.Latency(20*time.Millisecond, 5*time.Millisecond), "Latency(20ms, 5ms)"},
		{faultnet.ShortReads(1), "ShortReads(1)"},
		{faultnet.ShortWrites(3), "ShortWrites(3)"},
		{faultnet.RandomShortReads(7), "RandomShortReads(7)"},
		{faultnet.RandomShortWrites(9), "RandomShortWrites(9)"},
		{faultnet.Reset(), "Reset()"},
		{faultnet.Hangup(), "Hangup()"},
		{faultnet.HalfCloseWrite(), "HalfCloseWrite()"},
		{faultnet.HalfCloseRead(), "HalfCloseRead()"},
		{faultnet.AfterRead(10, faultnet.StallReads()), "AfterRead(10, StallReads())"},
		{faultnet.AfterWritten(65536, faultnet.Reset()), "AfterWritten(65536, Reset())"},
		{faultnet.AfterTime(time.Second, faultnet.Hangup()), "AfterTime(1s, Hangup())"},
		{faultnet.OnTrigger(trig, faultnet.StallReads()), "OnTrigger(ack-10, StallReads())"},
	}
	for _, tc := range cases {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if got := trig.String(); got != "ack-10" {
		t.Errorf("Trigger.String() = %q", got)
	}
	for _, o := range []struct {
		o    faultnet.Option
		want string
	}{
		{faultnet.BufferSize(1000), "BufferSize(1000)"},
		{faultnet.Seed(7), "Seed(7)"},
		{faultnet.Name("c3"), `Name("c3")`},
		{faultnet.Backlog(2), "Backlog(2)"},
		{faultnet.RefuseWhenFull(), "RefuseWhenFull()"},
		{faultnet.SocketBufferSize(4096), "SocketBufferSize(4096)"},
	} {
		if got := o.o.String(); got != o.want {
			t.Errorf("option String() = %q, want %q", got, o.want)
		}
	}
}

func TestStallInjectedWhileReadWaits(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, s := tr.pair(t)
		r := readAsync(s, make([]byte, 100))
		stillBlocked(t, r, "Read with nothing to read")
		inj := s.Inject(faultnet.StallReads())
		c.Write([]byte("x"))
		if tr.memory {
			// In memory the stall takes hold of the waiting Read; a wrapped
			// Read already waiting in the kernel returns what arrives.
			stillBlocked(t, r, "Read stalled while it waited")
		}
		inj.Remove()
		if got := await(t, r); got.n != 1 || got.err != nil {
			t.Fatalf("Read = %d, %v", got.n, got.err)
		}
	})
}
