package sockdiag

import (
	"testing"
	"time"
)

func TestStuckWriter(t *testing.T) {
	blocked := func(queue uint32) Socket {
		return Socket{State: Established, HasMemInfo: true, SendBuffer: 4096, WriteQueued: 4096, SendQueue: queue}
	}
	free := Socket{State: Established, HasMemInfo: true, SendBuffer: 4096, WriteQueued: 10, SendQueue: 10}
	t0 := time.Now()
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type look struct {
		s     *Socket // nil: the lookup failed
		at    time.Duration
		stuck bool
	}
	b1000, b2000 := blocked(1000), blocked(2000)
	for _, tc := range []struct {
		name  string
		looks []look
	}{
		{"blocked with the same queue for BlockedFor", []look{
			{&b1000, 0, false}, {&b1000, BlockedFor / 2, false}, {&b1000, BlockedFor - 1, false}, {&b1000, BlockedFor, true}, {&b1000, 2 * BlockedFor, true},
		}},
		{"the queue moved: the count starts again", []look{
			{&b1000, 0, false}, {&b2000, BlockedFor / 2, false}, {&b2000, BlockedFor, false}, {&b2000, BlockedFor/2 + BlockedFor, true},
		}},
		{"not blocked for a moment: the count starts again", []look{
			{&b1000, 0, false}, {&free, BlockedFor / 2, false}, {&b1000, BlockedFor, false}, {&b1000, 2*BlockedFor - 1, false}, {&b1000, 2 * BlockedFor, true},
		}},
		{"not found for a moment: the count starts again", []look{
			{&b1000, 0, false}, {nil, BlockedFor / 2, false}, {&b1000, BlockedFor, false}, {&b1000, 2 * BlockedFor, true},
		}},
		{"never blocked", []look{
			{&free, 0, false}, {&free, 10 * BlockedFor, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w StuckWriter
			for i, l := range tc.looks {
				var got bool
				if l.s == nil {
					w.Lost()
				} else {
					got = w.Saw(*l.s, at(l.at))
				}
				if got != l.stuck {
					t.Fatalf("look %d at +%v: stuck %v, want %v", i, l.at, got, l.stuck)
				}
			}
		})
	}
}
