package faultnet_test

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

func TestEventsLog(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []faultnet.Event
	c, s := memoryPair(t, faultnet.Name("c3"), faultnet.BufferSize(1000),
		faultnet.OnEvent(func(e faultnet.Event) { mu.Lock(); seen = append(seen, e); mu.Unlock() }))

	inj := s.Inject(faultnet.AfterRead(5, faultnet.StallReads()))
	c.Write(pattern(10))
	readN(t, s, 5)
	inj.Remove()
	c.SetWriteDeadline(time.Now().Add(blockWait))
	c.Write(pattern(2000)) // fills at byte 1000: 10 written before, 5 read
	s.CloseRead()
	c.CloseWrite()
	c.Inject(faultnet.Reset())
	c.Close()

	type ev struct {
		kind   faultnet.EventKind
		detail string
		byte   int64
	}
	check := func(conn *faultnet.Conn, want []ev) {
		t.Helper()
		got := conn.Events()
		if len(got) != len(want) {
			t.Fatalf("%v events:\n%v\nwant %v", conn, got, want)
		}
		var last time.Duration
		for i, e := range got {
			if e.Kind != want[i].kind || e.Detail != want[i].detail || e.Byte != want[i].byte || e.Conn != conn.String() {
				t.Errorf("%v event %d = %+v, want %+v", conn, i, e, want[i])
			}
			if e.At < last {
				t.Errorf("event times go back: %v", got)
			}
			last = e.At
		}
	}
	check(s, []ev{
		{faultnet.EventInject, "AfterRead(5, StallReads())", -1},
		{faultnet.EventFire, "StallReads()", -1},
		{faultnet.EventRemove, "AfterRead(5, StallReads())", -1},
		{faultnet.EventCloseRead, "", -1},
		{faultnet.EventReset, "by peer", -1},
	})
	check(c, []ev{
		{faultnet.EventBufferFull, "", 1005},
		{faultnet.EventCloseWrite, "", -1},
		{faultnet.EventInject, "Reset()", -1},
		{faultnet.EventReset, "", -1},
		{faultnet.EventClose, "", -1},
	})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 10 {
		t.Errorf("OnEvent saw %d events, want 10: %v", len(seen), seen)
	}
}

func TestEventStrings(t *testing.T) {
	t.Parallel()
	e := faultnet.Event{Conn: "client-3", At: 12 * time.Millisecond, Kind: faultnet.EventBufferFull, Byte: 65536}
	if got, want := e.String(), "t=12ms client-3: buffer-full at byte 65536"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	e = faultnet.Event{Conn: "c", At: 1500 * time.Microsecond, Kind: faultnet.EventInject, Detail: "StallReads()", Byte: -1}
	if got, want := e.String(), "t=1.5ms c: inject StallReads()"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	names := map[faultnet.EventKind]string{
		faultnet.EventInject: "inject", faultnet.EventFire: "fire", faultnet.EventRemove: "remove",
		faultnet.EventBufferFull: "buffer-full", faultnet.EventReset: "reset", faultnet.EventClose: "close",
		faultnet.EventCloseWrite: "close-write", faultnet.EventCloseRead: "close-read", 99: "EventKind(99)",
	}
	for k, want := range names {
		if k.String() != want {
			t.Errorf("EventKind %d = %q, want %q", k, k.String(), want)
		}
	}
}

func TestEventsOnWrappedConn(t *testing.T) {
	t.Parallel()
	c, s := tcpPair(t, faultnet.Name("api"))
	inj := c.Inject(faultnet.AfterWritten(3, faultnet.BlockWrites()))
	c.Write([]byte("abc"))
	inj.Remove()
	c.Close()
	readN(t, s, 3)
	var kinds []string
	name := regexp.MustCompile(`^api#\d+/client$`)
	for _, e := range c.Events() {
		kinds = append(kinds, e.Kind.String())
		if !name.MatchString(e.Conn) {
			t.Errorf("event conn %q", e.Conn)
		}
	}
	if got := strings.Join(kinds, ","); got != "inject,fire,remove,close" {
		t.Errorf("events %v", c.Events())
	}
}
