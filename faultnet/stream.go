package faultnet

import (
	"sync"
	"time"
)

// stream is one direction of an in-memory connection: the bytes one end
// has written and the other has not yet read, at most snd+rcv of them.
type stream struct {
	mu   sync.Mutex
	cond sync.Cond
	ring
	snd, rcv     int   // the writer's send and the reader's receive buffer
	wrOff, rdOff int64 // bytes ever written, read
	marks        []mark
	eof          bool // the writer closed its write side: EOF after the data
	rdClosed     bool // the reader closed its read side: writes fail
	rst          bool // reset: both ends fail with ECONNRESET

	// Direct hand-off: a Read waiting on an empty stream, with no fault on
	// either side, lends its buffer; a Write copies straight into it, so
	// the bytes are copied once instead of twice. hand is cleared only by
	// the Read that set it; handN > 0 means it was filled.
	hand  []byte
	handN int
}

func newStream(size int) *stream {
	st := &stream{snd: size / 2, rcv: size - size/2}
	st.cond.L = &st.mu
	return st
}

// space is how many more bytes the writer may add.
func (st *stream) space() int { return max(max(st.snd+st.rcv, 1)-st.len(), 0) }

// push appends p, readable from ready on (zero: at once). With split, p is
// a fragment of a short write: no Read returns bytes on both sides of its
// edges, so the reader sees the fragments as a TCP reader sees segments
// that it reads as they arrive. Caller holds mu.
func (st *stream) push(p []byte, ready time.Time, split bool) {
	start := st.wrOff
	st.write(p)
	st.wrOff += int64(len(p))
	if ready.IsZero() && !split && len(st.marks) == 0 {
		return
	}
	if n := len(st.marks); n > 0 && (ready.IsZero() || ready.Before(st.marks[n-1].at)) {
		ready = st.marks[n-1].at // bytes never overtake
	}
	st.marks = append(st.marks, mark{start, st.wrOff, ready, split})
}

// readable returns how many bytes the reader may take at now, and when more
// become readable because of latency (zero if none are in flight).
func (st *stream) readable(now time.Time) (n int, next time.Time) {
	for len(st.marks) > 0 && st.marks[0].end <= st.rdOff {
		st.marks = st.marks[1:]
	}
	if len(st.marks) == 0 {
		st.marks = nil
		return st.len(), time.Time{}
	}
	for _, m := range st.marks {
		if m.at.After(now) {
			return int(max(m.start, st.rdOff) - st.rdOff), m.at
		}
		if m.split {
			if m.start > st.rdOff {
				return int(m.start - st.rdOff), time.Time{}
			}
			return int(m.end - st.rdOff), time.Time{}
		}
	}
	return st.len(), time.Time{}
}

// take moves up to len(p) bytes into p. Caller holds mu.
func (st *stream) take(p []byte) int {
	k := st.read(p)
	st.rdOff += int64(k)
	return k
}

// drop discards everything in flight, as a reset does.
func (st *stream) drop() {
	st.rdOff = st.wrOff
	st.discard()
	st.marks = nil
}

// update changes st with f under its lock and wakes its waiters to
// re-check their state.
func (st *stream) update(f func(*stream)) {
	st.mu.Lock()
	f(st)
	st.cond.Broadcast()
	st.mu.Unlock()
}
