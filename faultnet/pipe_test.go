package faultnet_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

func TestPipeBasics(t *testing.T) {
	t.Parallel()
	c, s := memoryPair(t, faultnet.Name("p"))
	if c.Peer() != s || s.Peer() != c {
		t.Fatal("Peer does not link the two ends")
	}
	if c.Unwrap() != nil {
		t.Error("Unwrap of an in-memory conn is not nil")
	}
	if c.String() != "p/client" || s.String() != "p/server" {
		t.Errorf("names = %q, %q", c, s)
	}
	for _, a := range []net.Addr{c.LocalAddr(), c.RemoteAddr()} {
		ta, ok := a.(*net.TCPAddr)
		if !ok || !ta.IP.Equal(net.IPv4(127, 0, 0, 1)) || ta.Port == 0 || a.Network() != "tcp" {
			t.Errorf("address %v (%T) does not look like a TCP loopback address", a, a)
		}
	}
	if c.LocalAddr().String() != s.RemoteAddr().String() || c.RemoteAddr().String() != s.LocalAddr().String() {
		t.Errorf("addresses do not match: %v->%v, %v->%v", c.LocalAddr(), c.RemoteAddr(), s.LocalAddr(), s.RemoteAddr())
	}
	// A Write returns once buffered: no reader needed.
	if n, err := c.Write([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := readN(t, s, 5); string(got) != "hello" {
		t.Fatalf("read %q", got)
	}
	if n, err := s.Write([]byte("back")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := readN(t, c, 4); string(got) != "back" {
		t.Fatalf("read %q", got)
	}
	// Zero-length operations succeed without blocking.
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) = %d, %v", n, err)
	}
	if n, err := c.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) = %d, %v", n, err)
	}
}

func TestPipeWriterBlocksAtExactBufferSize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 1000, faultnet.DefaultBufferSize} {
		opts := []faultnet.Option{}
		if size != faultnet.DefaultBufferSize {
			opts = append(opts, faultnet.BufferSize(size))
		}
		c, s := memoryPair(t, opts...)
		// fillWait, not blockWait: a deadline that passes while Write is
		// still filling the buffer (64 KiB under -race, on a loaded
		// machine) ends it before it blocks, and logs no buffer-full.
		c.SetWriteDeadline(time.Now().Add(fillWait))
		n, err := c.Write(pattern(size + 500))
		if n != size {
			t.Fatalf("size %d: Write accepted %d bytes, want exactly %d", size, n, size)
		}
		wantTimeout(t, err)
		st := c.Stats()
		if st.Written != int64(size) || st.Unsent != int64(size) || st.WriteBlocked <= 0 {
			t.Errorf("size %d: client stats %+v", size, st)
		}
		if u := s.Stats().Unread; u != int64(size) {
			t.Errorf("size %d: server Unread = %d", size, u)
		}
		var full []faultnet.Event
		for _, e := range c.Events() {
			if e.Kind == faultnet.EventBufferFull {
				full = append(full, e)
			}
		}
		if len(full) != 1 || full[0].Byte != int64(size) {
			t.Errorf("size %d: buffer-full events %v, want one at byte %d", size, full, size)
		}
		// The peer reads exactly what Write reported.
		if got := readN(t, s, size); !bytes.Equal(got, pattern(size)) {
			t.Errorf("size %d: peer read different bytes", size)
		}
		s.SetReadDeadline(time.Now().Add(blockWait))
		if n, err := s.Read(make([]byte, 10)); n != 0 || !isTimeout(err) {
			t.Errorf("size %d: extra Read = %d, %v; want nothing more", size, n, err)
		}
	}
}

func TestPipeBlockedWriterResumesWhenPeerReads(t *testing.T) {
	t.Parallel()
	c, s := memoryPair(t, faultnet.BufferSize(100))
	want := pattern(1000)
	w := writeAsync(c, want)
	stillBlocked(t, w, "Write of 10 buffers")
	got := readN(t, s, len(want))
	if r := await(t, w); r.n != len(want) || r.err != nil {
		t.Fatalf("Write = %d, %v", r.n, r.err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("data differs")
	}
	// The buffer filled once per episode: at byte 100 first.
	ev := c.Events()
	if len(ev) == 0 || ev[0].Kind != faultnet.EventBufferFull || ev[0].Byte != 100 {
		t.Errorf("events %v, want buffer-full at byte 100 first", ev)
	}
}

func TestPipeSetBuffersLive(t *testing.T) {
	t.Parallel()
	c, s := memoryPair(t)
	// A direction holds the writer's send buffer plus the reader's receive buffer.
	if err := c.SetWriteBuffer(0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetReadBuffer(10); err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(blockWait))
	n, err := c.Write(pattern(100))
	if n != 10 {
		t.Fatalf("Write accepted %d bytes, want 10", n)
	}
	wantTimeout(t, err)
	// Growing the buffer wakes a blocked writer.
	c.SetWriteDeadline(time.Time{})
	w := writeAsync(c, pattern(20))
	stillBlocked(t, w, "Write into a full buffer")
	if err := s.SetReadBuffer(30); err != nil {
		t.Fatal(err)
	}
	if r := await(t, w); r.n != 20 || r.err != nil {
		t.Fatalf("Write = %d, %v", r.n, r.err)
	}
	if u := s.Stats().Unread; u != 30 {
		t.Errorf("Unread = %d, want 30", u)
	}
}

func TestPipeCloseWithUnreadDataResets(t *testing.T) {
	t.Parallel()
	c, s := memoryPair(t)
	c.Write([]byte("unread"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(make([]byte, 1))
	wantErrno(t, err, "read", syscall.ECONNRESET)
}

func TestPipeLingerZeroCloseResets(t *testing.T) {
	t.Parallel()
	c, s := memoryPair(t)
	s.Write([]byte("in flight"))
	if err := s.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := c.Read(make([]byte, 100))
	wantErrno(t, err, "read", syscall.ECONNRESET)
}

func TestPipeConcurrentUse(t *testing.T) {
	t.Parallel()
	c, s := memoryPair(t, faultnet.BufferSize(333))
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte('a' + i)}, 7)
			for range each {
				if _, err := c.Write(msg); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); c.CloseWrite() }()
	var mu sync.Mutex
	counts := map[byte]int{}
	var rg sync.WaitGroup
	for range 4 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			buf := make([]byte, 64)
			for {
				n, err := s.Read(buf)
				mu.Lock()
				for _, b := range buf[:n] {
					counts[b]++
				}
				mu.Unlock()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
			}
		}()
	}
	rg.Wait()
	for i := range writers {
		if got := counts[byte('a'+i)]; got != 7*each {
			t.Errorf("writer %d: %d bytes arrived, want %d", i, got, 7*each)
		}
	}
	st := s.Stats()
	if st.Read != writers*each*7 {
		t.Errorf("Read = %d", st.Read)
	}
}

func TestPipeWriteIsAtomicPerCall(t *testing.T) {
	t.Parallel()
	// Concurrent Writes that fit the buffer are not interleaved byte by byte
	// within a chunk; here each message fits, so messages arrive whole.
	c, s := memoryPair(t)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Write([]byte(strings.Repeat(string(rune('A'+i)), 10)))
		}()
	}
	wg.Wait()
	got := string(readN(t, s, 100))
	for i := 0; i < 100; i += 10 {
		if got[i:i+10] != strings.Repeat(got[i:i+1], 10) {
			t.Fatalf("messages interleaved: %q", got)
		}
	}
}

func TestPipeStatsAndNames(t *testing.T) {
	t.Parallel()
	c, s := memoryPair(t)
	if !strings.HasPrefix(c.String(), "pipe") || !strings.HasSuffix(c.String(), "/client") || !strings.HasSuffix(s.String(), "/server") {
		t.Errorf("default names %q %q", c, s)
	}
	c.Write(pattern(300))
	readN(t, s, 100)
	cs, ss := c.Stats(), s.Stats()
	if cs.Written != 300 || cs.Unsent != 200 || cs.Read != 0 {
		t.Errorf("client stats %+v", cs)
	}
	if ss.Read != 100 || ss.Unread != 200 || ss.Written != 0 {
		t.Errorf("server stats %+v", ss)
	}
	inj := c.Inject(faultnet.StallReads())
	if f := c.Stats().Faults; len(f) != 1 || f[0] != "StallReads()" {
		t.Errorf("Faults = %q", f)
	}
	inj.Remove()
	if f := c.Stats().Faults; len(f) != 0 {
		t.Errorf("Faults after Remove = %q", f)
	}
}

func TestPipeErrorsAfterClose(t *testing.T) {
	t.Parallel()
	c, _ := memoryPair(t)
	c.Close()
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}
