package faultnet

import "time"

// ring is a byte FIFO that grows on demand, so an idle connection costs a
// few hundred bytes rather than its whole window.
type ring struct {
	buf  []byte
	r, n int // read position, bytes held
}

const minRing = 512

func (b *ring) len() int { return b.n }

// write appends p, growing the buffer as needed.
func (b *ring) write(p []byte) {
	if b.n+len(p) > len(b.buf) {
		size := max(2*len(b.buf), b.n+len(p), minRing)
		nb := make([]byte, size)
		n := b.read(nb)
		b.buf, b.r, b.n = nb, 0, n
	}
	w := (b.r + b.n) % len(b.buf)
	k := copy(b.buf[w:], p)
	copy(b.buf, p[k:])
	b.n += len(p)
}

// read moves up to len(p) bytes into p.
func (b *ring) read(p []byte) int {
	k := min(len(p), b.n)
	if k == 0 {
		return 0
	}
	c := copy(p[:k], b.buf[b.r:])
	copy(p[c:k], b.buf)
	b.r = (b.r + k) % len(b.buf)
	b.n -= k
	if b.n == 0 {
		b.r = 0
	}
	return k
}

func (b *ring) discard() { b.r, b.n = 0, 0 }

// mark records when the bytes [start, end) of a stream become readable,
// for latency, and whether they are a fragment of a short write (split).
type mark struct {
	start, end int64
	at         time.Time
	split      bool
}
