package sockdiag

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

func TestLookupBothEnds(t *testing.T) {
	c := openT(t)
	client, server := pairT(t, "127.0.0.1:0", "127.0.0.1")
	sl, sr := ServerSide(client)
	if sl != server.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort() {
		t.Fatalf("ServerSide local %v, server's own %v", sl, server.LocalAddr())
	}
	ss, err := c.Lookup(sl, sr)
	if err != nil {
		t.Fatalf("server side: %v", err)
	}
	cs, err := c.Lookup(sr, sl)
	if err != nil {
		t.Fatalf("client side: %v", err)
	}
	for _, s := range []Socket{ss, cs} {
		if s.State != Established || s.Inode == 0 || s.UID != uint32(os.Getuid()) || !s.HasMemInfo || s.SendBuffer <= 0 {
			t.Errorf("unexpected: %+v", s)
		}
		if s.WriteBlocked() {
			t.Errorf("idle socket reported blocked: %v", s)
		}
	}
	if ss.Inode == cs.Inode || ss.Local != sl || ss.Remote != sr {
		t.Errorf("server %+v, client %+v", ss, cs)
	}
}

func TestWriteBlocked(t *testing.T) {
	for _, tc := range []struct{ name, listen, dial string }{
		{"ipv4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "[::1]:0", "::1"},
		{"dual-stack", "[::]:0", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := openT(t)
			client, server := pairT(t, tc.listen, tc.dial)
			local, remote := ServerSide(client)
			// The client does not read; the server writes until the kernel
			// refuses, then looks until the ACKs in flight have landed.
			written := 0
			var s Socket
			eventually(t, "server side never write-blocked", func() bool {
				written += fillT(t, server, 64<<20)
				var err error
				if s, err = c.Lookup(local, remote); err != nil {
					t.Fatalf("lookup: %v", err)
				}
				return s.WriteBlocked()
			})
			t.Logf("blocked after %d bytes: %v", written, s)
			if s.SendQueue == 0 || s.WriteQueued < s.SendBuffer {
				t.Errorf("blocked with nothing queued: %+v", s)
			}
			// The window closes completely once the sender's persist timer
			// has pushed the last bytes into it (a few hundred ms).
			if s.HasPeerWindow {
				eventually(t, "peer window never 0 with the client not reading", func() bool {
					written += fillT(t, server, 64<<20)
					var err error
					if s, err = c.Lookup(local, remote); err != nil {
						t.Fatalf("lookup: %v", err)
					}
					return s.PeerWindow == 0
				})
				if !s.WriteBlocked() {
					t.Errorf("window 0 but not blocked: %v", s)
				}
			}
			// The client reads everything: the server is writable again.
			drainT(t, client, written)
			eventually(t, "server side still blocked after the client read all", func() bool {
				var err error
				if s, err = c.Lookup(local, remote); err != nil {
					t.Fatalf("lookup: %v", err)
				}
				return !s.WriteBlocked() && s.SendQueue == 0
			})
		})
	}
}

func TestLookupNotFound(t *testing.T) {
	c := openT(t)
	client, server := pairT(t, "127.0.0.1:0", "127.0.0.1")
	local, remote := ServerSide(client)
	// A tuple on the server's port that no connection has: the kernel's
	// fallback to the listener must not be taken for it.
	other := netip.AddrPortFrom(remote.Addr(), remote.Port()+1)
	if _, err := c.Lookup(local, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup of a tuple with no socket: %v, want ErrNotFound", err)
	}
	// A reset removes both ends at once (no TIME-WAIT).
	if err := server.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if s, err := c.Lookup(local, remote); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup of a closed socket: %v, %v; want ErrNotFound", s, err)
	}
	eventually(t, "client side still there after the reset", func() bool {
		_, err := c.Lookup(remote, local)
		return errors.Is(err, ErrNotFound)
	})
}

func TestLookupBadAddresses(t *testing.T) {
	c := openT(t)
	v4, v6 := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("[::1]:1")
	for _, pair := range [][2]netip.AddrPort{{v4, v6}, {netip.AddrPort{}, v4}} {
		if _, err := c.Lookup(pair[0], pair[1]); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%v, %v): %v, want an error about the addresses", pair[0], pair[1], err)
		}
	}
}

func TestLookupAfterClose(t *testing.T) {
	c := openT(t)
	c.Close()
	a := netip.MustParseAddrPort("127.0.0.1:1")
	if _, err := c.Lookup(a, a); !errors.Is(err, net.ErrClosed) {
		t.Errorf("lookup on a closed Conn: %v, want net.ErrClosed", err)
	}
}

func BenchmarkLookup(b *testing.B) {
	c := openT(b)
	client, _ := pairT(b, "127.0.0.1:0", "127.0.0.1")
	local, remote := ServerSide(client)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Lookup(local, remote); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWaitWriteBlocked(t *testing.T) {
	c := openT(t)
	client, server := pairT(t, "127.0.0.1:0", "127.0.0.1")
	local, remote := ServerSide(client)
	// Not blocked: the wait ends with the context, with the socket seen.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	s, err := c.WaitWriteBlocked(ctx, local, remote, time.Millisecond)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || s.State != Established {
		t.Errorf("idle: %v, %v; want the socket and DeadlineExceeded", s, err)
	}
	// A writer in another goroutine fills it: the wait returns it blocked.
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunk := make([]byte, 64<<10)
		for i := 0; i < 1024; i++ { // at most 64 MiB
			if _, err := server.Write(chunk); err != nil {
				return
			}
		}
	}()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	s, err = c.WaitWriteBlocked(ctx, local, remote, 0)
	cancel()
	if err != nil || !s.WriteBlocked() {
		t.Errorf("writer to a client that does not read: %v, %v", s, err)
	}
	server.SetLinger(0)
	server.Close()
	<-done
	// Gone: ErrNotFound at once.
	if _, err := c.WaitWriteBlocked(context.Background(), local, remote, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("closed socket: %v, want ErrNotFound", err)
	}
}
