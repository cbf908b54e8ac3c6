package faultnet_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/faultnet"
)

type listenerTransport struct {
	name   string
	memory bool
	listen func(t testing.TB, opts ...faultnet.Option) *faultnet.Listener
}

var listenerTransports = []listenerTransport{
	{"memory", true, func(t testing.TB, opts ...faultnet.Option) *faultnet.Listener {
		ln := faultnet.Listen(opts...)
		t.Cleanup(func() { ln.Close() })
		return ln
	}},
	{"tcp", false, func(t testing.TB, opts ...faultnet.Option) *faultnet.Listener {
		ln, err := faultnet.ListenTCP("127.0.0.1:0", append([]faultnet.Option{faultnet.SocketBufferSize(4096)}, opts...)...)
		if err != nil {
			t.Fatalf("ListenTCP: %v", err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln
	}},
}

func forEachListener(t *testing.T, f func(t *testing.T, lt listenerTransport)) {
	t.Helper()
	for _, lt := range listenerTransports {
		t.Run(lt.name, func(t *testing.T) { f(t, lt) })
	}
}

func dial(t testing.TB, ln *faultnet.Listener) *faultnet.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	c, err := ln.Dial(ctx)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type acceptResult struct {
	c   net.Conn
	err error
}

func acceptAsync(ln net.Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := ln.Accept()
		ch <- acceptResult{c, err}
	}()
	return ch
}

func awaitAccept(t testing.TB, ch <-chan acceptResult) net.Conn {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(liveness):
		t.Fatal("Accept still blocked")
		return nil
	}
}

func TestListenDialAccept(t *testing.T) {
	t.Parallel()
	forEachListener(t, func(t *testing.T, lt listenerTransport) {
		ln := lt.listen(t, faultnet.Name("srv"))
		if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() || a.Port == 0 {
			t.Errorf("Addr = %v", ln.Addr())
		}
		if !strings.Contains(ln.String(), ln.Addr().String()) {
			t.Errorf("String = %q", ln.String())
		}
		acc := acceptAsync(ln)
		c := dial(t, ln)
		s := awaitAccept(t, acc).(*faultnet.Conn)
		if c.RemoteAddr().String() != ln.Addr().String() || s.LocalAddr().String() != ln.Addr().String() {
			t.Errorf("addresses: client -> %v, server at %v, listener at %v", c.RemoteAddr(), s.LocalAddr(), ln.Addr())
		}
		if !strings.HasPrefix(c.String(), "srv#1/client") && !strings.HasPrefix(c.String(), "srv#") {
			t.Errorf("client name %q", c)
		}
		c.Write([]byte("ping"))
		if got := readN(t, s, 4); string(got) != "ping" {
			t.Fatalf("read %q", got)
		}
		s.Write([]byte("pong"))
		if got := readN(t, c, 4); string(got) != "pong" {
			t.Fatalf("read %q", got)
		}
		if ln.Accepted() != 1 {
			t.Errorf("Accepted = %d", ln.Accepted())
		}
		// DialContext is a drop-in dialer.
		acc = acceptAsync(ln)
		nc, err := ln.DialContext(context.Background(), "tcp", "ignored:1")
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
		awaitAccept(t, acc)
	})
}

func TestFailAccepts(t *testing.T) {
	t.Parallel()
	forEachListener(t, func(t *testing.T, lt listenerTransport) {
		ln := lt.listen(t)
		c := dial(t, ln) // waits in the backlog meanwhile
		ln.FailAccepts(3)
		for i := range 3 {
			_, err := ln.Accept()
			var ne net.Error
			require.ErrorAs(t, err, &ne, "Accept %d", i)
			//lint:ignore SA1019 Temporary is what servers test for EMFILE.
			require.True(t, ne.Temporary(), "Accept %d: %v is not Temporary", i, err)
			require.ErrorIs(t, err, syscall.EMFILE, "Accept %d", i)
		}
		s := awaitAccept(t, acceptAsync(ln))
		c.Write([]byte("x"))
		readN(t, s, 1)
		ln.FailAccepts(1)
		ln.FailAccepts(0) // cancels
		acc := acceptAsync(ln)
		dial(t, ln)
		awaitAccept(t, acc)
	})
}

func TestPauseAccept(t *testing.T) {
	t.Parallel()
	forEachListener(t, func(t *testing.T, lt listenerTransport) {
		ln := lt.listen(t, faultnet.Backlog(2))
		ln.PauseAccept()
		acc := acceptAsync(ln)
		// Dials complete while Accept is paused.
		c1 := dial(t, ln)
		c2 := dial(t, ln)
		select {
		case r := <-acc:
			t.Fatalf("paused Accept returned %v, %v", r.c, r.err)
		case <-time.After(blockWait):
		}
		if lt.memory {
			// The backlog (2) is full: a third dial blocks.
			ctx, cancel := context.WithTimeout(context.Background(), blockWait)
			_, err := ln.Dial(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("dial to a full backlog = %v, want it blocked until ctx ended", err)
			}
		}
		c1.Write([]byte("1"))
		c2.Write([]byte("2"))
		ln.ResumeAccept()
		s1 := awaitAccept(t, acc)
		s2 := awaitAccept(t, acceptAsync(ln))
		if got := readN(t, s1, 1); string(got) != "1" {
			t.Errorf("first accepted conn read %q", got)
		}
		if got := readN(t, s2, 1); string(got) != "2" {
			t.Errorf("second accepted conn read %q", got)
		}
	})
}

func TestBacklogDialUnblocksOnAccept(t *testing.T) {
	t.Parallel()
	ln := faultnet.Listen(faultnet.Backlog(1))
	defer ln.Close()
	dial(t, ln)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		c, err := ln.Dial(ctx)
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("dial to a full backlog returned %v", err)
	case <-time.After(blockWait):
	}
	awaitAccept(t, acceptAsync(ln))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(liveness):
		t.Fatal("dial still blocked after Accept made room")
	}
	awaitAccept(t, acceptAsync(ln))
}

func TestRefuseWhenFull(t *testing.T) {
	t.Parallel()
	ln := faultnet.Listen(faultnet.Backlog(1), faultnet.RefuseWhenFull())
	defer ln.Close()
	dial(t, ln)
	_, err := ln.Dial(context.Background())
	wantErrno(t, err, "dial", syscall.ECONNREFUSED)
	awaitAccept(t, acceptAsync(ln))
	dial(t, ln)
}

func TestListenerCloseResetsBacklog(t *testing.T) {
	t.Parallel()
	ln := faultnet.Listen()
	c := dial(t, ln)
	acc := acceptAsync(ln)
	awaitAccept(t, acc)
	c2 := dial(t, ln)
	ln.Close()
	// The accepted conn lives on; the queued one is reset.
	if _, err := c.Write([]byte("x")); err != nil {
		t.Errorf("accepted conn: %v", err)
	}
	_, err := c2.Read(make([]byte, 1))
	wantErrno(t, err, "read", syscall.ECONNRESET)
}

func TestCloseUnblocksAccept(t *testing.T) {
	t.Parallel()
	forEachListener(t, func(t *testing.T, lt listenerTransport) {
		for _, paused := range []bool{false, true} {
			ln := lt.listen(t)
			if paused {
				ln.PauseAccept()
			}
			acc := acceptAsync(ln)
			ln.Close()
			select {
			case r := <-acc:
				if !errors.Is(r.err, net.ErrClosed) {
					t.Errorf("paused=%v: Accept = %v", paused, r.err)
				}
			case <-time.After(liveness):
				t.Fatal("Accept still blocked after Close")
			}
		}
	})
}

// heldDial arms a hold, dials ln in a goroutine, and waits until the hold
// has caught the dial; done gets the dial's error.
func heldDial(t *testing.T, ln *faultnet.Listener) (h *faultnet.DialHold, done chan error) {
	t.Helper()
	h = ln.HoldDials()
	done = make(chan error, 1)
	go func() {
		c, err := ln.Dial(context.Background())
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	require.True(t, h.Wait(ctx), "no dial held within %v", liveness)
	return h, done
}

func TestHoldDials(t *testing.T) {
	t.Parallel()
	forEachListener(t, func(t *testing.T, lt listenerTransport) {
		t.Run("resume", func(t *testing.T) {
			ln := lt.listen(t)
			h, done := heldDial(t, ln)
			select {
			case err := <-done:
				t.Fatalf("held dial returned %v", err)
			case <-time.After(blockWait):
			}
			h.Resume()
			if err := <-done; err != nil {
				t.Fatalf("resumed dial: %v", err)
			}
			awaitAccept(t, acceptAsync(ln))
			// Only one dial was caught: the next goes straight through.
			acc := acceptAsync(ln)
			dial(t, ln)
			awaitAccept(t, acc)
		})
		t.Run("fail", func(t *testing.T) {
			ln := lt.listen(t)
			h1, h2 := ln.HoldDials(), ln.HoldDials()
			h1.Fail(nil)
			h2.Fail(syscall.ETIMEDOUT)
			_, err := ln.Dial(context.Background())
			if !errors.Is(err, faultnet.ErrHeld) {
				t.Errorf("first dial = %v, want ErrHeld", err)
			}
			_, err = ln.Dial(context.Background())
			wantErrno(t, err, "dial", syscall.ETIMEDOUT)
			// Even with its ctx ended, Wait reports the dial it held.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if !h1.Wait(ctx) {
				t.Error("Wait after the dial was held: false")
			}
		})
		t.Run("listener close refuses a held dial", func(t *testing.T) {
			ln := lt.listen(t)
			// heldDial fails the test unless the dial is held: otherwise
			// Close would refuse a dial not yet made, which proves nothing
			// about holds.
			_, done := heldDial(t, ln)
			ln.Close()
			wantErrno(t, <-done, "dial", syscall.ECONNREFUSED)
		})
		t.Run("ctx ends the hold", func(t *testing.T) {
			ln := lt.listen(t)
			h := ln.HoldDials()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			_, err := ln.Dial(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("held dial with a short ctx = %v", err)
			}
			short, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel2()
			h2 := ln.HoldDials()
			if h2.Wait(short) {
				t.Error("Wait reported a dial that never came")
			}
			h.Resume()
			h2.Resume()
		})
	})
}

func TestListenerWithFaultsAndOnAccept(t *testing.T) {
	t.Parallel()
	forEachListener(t, func(t *testing.T, lt listenerTransport) {
		var mu sync.Mutex
		var seen []*faultnet.Conn
		ln := lt.listen(t,
			faultnet.WithFaults(faultnet.StallReads()),
			faultnet.OnAccept(func(c *faultnet.Conn) { mu.Lock(); seen = append(seen, c); mu.Unlock() }))
		acc := acceptAsync(ln)
		c := dial(t, ln)
		s := awaitAccept(t, acc).(*faultnet.Conn)
		mu.Lock()
		if len(seen) != 1 || seen[0] != s {
			t.Errorf("OnAccept saw %v", seen)
		}
		mu.Unlock()
		// The fault is on the server end, once; the client is clean.
		if f := s.Stats().Faults; len(f) != 1 || f[0] != "StallReads()" {
			t.Errorf("server faults %q", f)
		}
		if f := c.Stats().Faults; len(f) != 0 {
			t.Errorf("client faults %q", f)
		}
		c.Write([]byte("x"))
		s.SetReadDeadline(time.Now().Add(blockWait))
		_, err := s.Read(make([]byte, 1))
		wantTimeout(t, err)
	})
}

func TestListenerSeedsReplay(t *testing.T) {
	t.Parallel()
	// The n-th connection of a listener draws the same sizes in every run.
	sizes := func() []int {
		ln := faultnet.Listen(faultnet.Seed(9))
		defer ln.Close()
		var out []int
		for range 2 {
			c := dial(t, ln)
			s := awaitAccept(t, acceptAsync(ln))
			s.(*faultnet.Conn).Inject(faultnet.RandomShortReads(50))
			c.Write(pattern(500))
			buf := make([]byte, 100)
			for total := 0; total < 500; {
				n, err := s.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, n)
				total += n
			}
		}
		return out
	}
	assert.Equal(t, sizes(), sizes(), "read sizes of two listener runs with the same seed")
}
