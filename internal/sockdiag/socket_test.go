package sockdiag

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestWriteBlockedCriterion(t *testing.T) {
	open := Socket{State: Established, HasMemInfo: true, HasPeerWindow: true, PeerWindow: 65536, SendBuffer: 30000}
	closed := open
	closed.PeerWindow = 0
	for _, tc := range []struct {
		name   string
		s      Socket
		queued int
		want   bool
	}{
		{"empty", open, 0, false},
		{"below the limit, window open", open, 29999, false},
		{"at the limit", open, 30000, true},
		{"over the limit", open, 40000, true},
		{"window 0, writable level", closed, 20000, false},
		{"window 0, above the wake level", closed, 20001, true},
		{"no memory figures", Socket{State: Established, WriteQueued: 1}, 1, false},
		{"closed state", Socket{State: 7, HasMemInfo: true, SendBuffer: 1}, 1, false},
		{"close-wait", Socket{State: CloseWait, HasMemInfo: true, SendBuffer: 1}, 1, true},
	} {
		tc.s.WriteQueued = tc.queued
		if got := tc.s.WriteBlocked(); got != tc.want {
			t.Errorf("%s: %+v: WriteBlocked %v, want %v", tc.name, tc.s, got, tc.want)
		}
	}
}

func TestString(t *testing.T) {
	s := Socket{
		Local: netip.MustParseAddrPort("127.0.0.1:9000"), Remote: netip.MustParseAddrPort("127.0.0.1:50412"),
		State: Established, SendQueue: 30000, HasMemInfo: true, WriteQueued: 33280, SendBuffer: 33280,
		HasPeerWindow: true,
	}
	want := "127.0.0.1:9000->127.0.0.1:50412 ESTABLISHED: 30000 bytes unacked, queued 33280 of sndbuf 33280, window 0, write blocked"
	if got := s.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
	if got := State(42).String(); !strings.Contains(got, "42") {
		t.Errorf("unknown state prints %q", got)
	}
}

func TestServerSide(t *testing.T) {
	c := fakeConn{
		local:  &net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 50412},
		remote: &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9000},
	}
	l, r := ServerSide(c)
	if l.String() != "127.0.0.1:9000" || r.String() != "127.0.0.1:50412" {
		t.Errorf("ServerSide = %v, %v", l, r)
	}
	if l, r := ServerSide(fakeConn{local: &net.UnixAddr{}, remote: &net.UnixAddr{}}); l.IsValid() || r.IsValid() {
		t.Errorf("ServerSide of a unix conn = %v, %v", l, r)
	}
}

type fakeConn struct {
	net.Conn
	local, remote net.Addr
}

func (c fakeConn) LocalAddr() net.Addr  { return c.local }
func (c fakeConn) RemoteAddr() net.Addr { return c.remote }
