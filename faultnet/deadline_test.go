package faultnet_test

import (
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

func TestDeadlinePastAndPresent(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		for _, name := range []string{"past", "present"} {
			c, s := tr.pair(t)
			c.Write([]byte("data"))
			readN(t, s, 1) // the data has arrived
			d := time.Now()
			if name == "past" {
				d = d.Add(-time.Hour)
			}
			// Even with data waiting, a passed deadline fails at once, as net does.
			s.SetReadDeadline(d)
			n, err := s.Read(make([]byte, 10))
			if n != 0 {
				t.Errorf("%s: Read = %d bytes", name, n)
			}
			wantTimeout(t, err)
			c.SetWriteDeadline(d)
			n, err = c.Write([]byte("x"))
			if n != 0 {
				t.Errorf("%s: Write = %d bytes", name, n)
			}
			wantTimeout(t, err)
			// Clearing the deadline restores service.
			s.SetReadDeadline(time.Time{})
			c.SetWriteDeadline(time.Time{})
			if got := readN(t, s, 3); string(got) != "ata" {
				t.Errorf("%s: read %q", name, got)
			}
			if n, err := c.Write([]byte("y")); n != 1 || err != nil {
				t.Errorf("%s: Write after clearing = %d, %v", name, n, err)
			}
		}
	})
}

func TestDeadlineFuture(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		c, _ := tr.pair(t)
		const d = 30 * time.Millisecond
		start := time.Now()
		c.SetReadDeadline(start.Add(d))
		_, err := c.Read(make([]byte, 1))
		wantTimeout(t, err)
		if el := time.Since(start); el < d {
			t.Errorf("Read timed out after %v, before the deadline %v", el, d)
		}
		// A timed-out conn stays timed out until the deadline moves.
		_, err = c.Read(make([]byte, 1))
		wantTimeout(t, err)
	})
}

func TestDeadlineChangedWhileBlocked(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		t.Run("shortened", func(t *testing.T) {
			c, _ := tr.pair(t)
			r := readAsync(c, make([]byte, 1))
			stillBlocked(t, r, "Read without deadline")
			c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			wantTimeout(t, await(t, r).err)
		})
		t.Run("moved to the past", func(t *testing.T) {
			c, _ := tr.pair(t)
			c.SetReadDeadline(time.Now().Add(time.Hour))
			r := readAsync(c, make([]byte, 1))
			stillBlocked(t, r, "Read with a 1h deadline")
			c.SetReadDeadline(time.Now().Add(-time.Second))
			wantTimeout(t, await(t, r).err)
		})
		t.Run("extended", func(t *testing.T) {
			c, s := tr.pair(t)
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			r := readAsync(c, make([]byte, 1))
			c.SetReadDeadline(time.Now().Add(time.Hour))
			stillBlockedFor(t, r, "Read past its old deadline", 300*time.Millisecond)
			s.Write([]byte("z"))
			if got := await(t, r); got.n != 1 || got.err != nil {
				t.Errorf("Read = %d, %v", got.n, got.err)
			}
		})
		t.Run("cleared", func(t *testing.T) {
			c, s := tr.pair(t)
			c.SetDeadline(time.Now().Add(200 * time.Millisecond))
			r := readAsync(c, make([]byte, 1))
			c.SetDeadline(time.Time{})
			stillBlockedFor(t, r, "Read past its cleared deadline", 300*time.Millisecond)
			s.Write([]byte("z"))
			if got := await(t, r); got.n != 1 || got.err != nil {
				t.Errorf("Read = %d, %v", got.n, got.err)
			}
		})
		t.Run("blocked write", func(t *testing.T) {
			c, s := tr.pair(t, faultnet.BufferSize(100))
			s.Inject(faultnet.StallReads())
			w := writeAsync(c, make([]byte, 8<<20))
			stillBlocked(t, w, "Write to a stalled reader")
			c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			got := await(t, w)
			wantTimeout(t, got.err)
			if tr.memory && got.n != 100 {
				t.Errorf("Write = %d, want the 100 bytes the buffer took", got.n)
			}
		})
	})
}

func TestDeadlineOnStalledOps(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		for _, tc := range []struct {
			f    faultnet.Fault
			read bool
		}{
			{faultnet.StallReads(), true},
			{faultnet.TrickleReads(1, time.Hour), true},
			{faultnet.BlockWrites(), false},
			{faultnet.TrickleWrites(1, time.Hour), false},
			{faultnet.Bandwidth(1), false},
		} {
			t.Run(tc.f.String(), func(t *testing.T) {
				c, s := tr.pair(t)
				c.Inject(tc.f)
				s.SetReadDeadline(time.Now().Add(liveness))
				deadline := time.Now().Add(30 * time.Millisecond)
				c.SetDeadline(deadline)
				var err error
				if tc.read {
					s.Write([]byte("ab"))
					// The first paced step may go through; the next waits past the deadline.
					for range 3 {
						if _, err = c.Read(make([]byte, 1)); err != nil {
							break
						}
					}
				} else {
					for range 3 {
						if _, err = c.Write([]byte("xx")); err != nil {
							break
						}
					}
				}
				wantTimeout(t, err)
				if time.Now().Before(deadline) {
					t.Error("timed out before the deadline")
				}
			})
		}
	})
}

// TestBufferFullAtDeadline: a Write that stops, its deadline past, with
// the buffer full and bytes left to write stopped on a full buffer, and
// says so (buffer-full), as one that blocked there until its deadline
// does. Seen in Example_stallClient under load: the deadline passed while
// the Write was still filling the buffer, and no event was logged.
func TestBufferFullAtDeadline(t *testing.T) {
	t.Parallel()
	client, server := faultnet.Pipe(faultnet.BufferSize(4096))
	defer client.Close()
	defer server.Close()
	client.Inject(faultnet.StallReads())
	if n, err := server.Write(make([]byte, 4096)); n != 4096 || err != nil {
		t.Fatalf("Write of the buffer's size: %d, %v; want 4096, nil", n, err)
	}
	server.SetWriteDeadline(time.Now().Add(-time.Second))
	if n, err := server.Write([]byte("x")); n != 0 || err == nil {
		t.Fatalf("Write past its deadline on a full buffer: %d, %v; want 0 and a timeout", n, err)
	}
	var full []int64
	for _, e := range server.Events() {
		if e.Kind == faultnet.EventBufferFull {
			full = append(full, e.Byte)
		}
	}
	if len(full) != 1 || full[0] != 4096 {
		t.Fatalf("buffer-full events at bytes %v, want one at 4096; events: %v", full, server.Events())
	}
}
