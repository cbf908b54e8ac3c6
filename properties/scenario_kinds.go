package properties

import (
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// kind is how a client behaves.
type kind int

const (
	healthy    kind = iota // reads everything, makes requests, expects answers
	fragmenter             // healthy, but writes each request in many small pieces and reads in random short pieces
	garbler                // healthy, but also sends malformed lines (protocol v1 only)
	stalled                // never reads: the server's writes to it block
	trickler               // reads 64 bytes a millisecond
	flooder                // sends requests and never reads
	slowloris              // sends half a request and nothing more
	numKinds
)

var kindNames = [...]string{"healthy", "fragmenter", "garbler", "stalled", "trickler", "flooder", "slowloris"}

func (k kind) String() string { return kindNames[k] }

// GoString makes rapid print the kind by name.
func (k kind) GoString() string { return kindNames[k] }

// answers reports whether clients of this kind read everything and so must
// see every request answered within the bound.
func (k kind) answers() bool { return k == healthy || k == fragmenter || k == garbler }

// stalls reports whether clients of this kind never read.
func (k kind) stalls() bool { return k == stalled || k == flooder }

// faults injects the kind's other faults into a client's connections,
// once the client is greeted.
func (k kind) faults(c *client) {
	switch k {
	case fragmenter:
		piece := fragmentPiece(c)
		c.inject(faultnet.ShortWrites(piece))
		c.inject(faultnet.RandomShortReads(max(7, piece)))
	case trickler:
		c.inject(faultnet.TrickleReads(64, time.Millisecond))
	}
}

// kindsFor drops the kinds a protocol cannot have: the garbler speaks
// protocol v1; a client library cannot flood, or stop halfway through a
// request.
func kindsFor(p *Protocol, ks []kind) []kind {
	var out []kind
	for _, k := range ks {
		switch {
		case k == garbler && !p.v1:
		case (k == flooder || k == slowloris) && p.Connect != nil:
		default:
			out = append(out, k)
		}
	}
	return out
}

// fragmentPieces is how many pieces, at most, a fragmenter cuts a request
// into: enough to split it anywhere a server's framing could go wrong.
const fragmentPieces = 16

// fragmentPiece is the size of the pieces a fragmenter writes: one byte
// for short requests (protocol v1's are a dozen bytes), and a sixteenth of
// the request for long ones; it reads pieces of at most 7 bytes, or as
// many. 200 requests of 16 KiB sent a byte at a time, or their echoes read
// 7 bytes at a time, take the harness itself longer than the bound, and
// then it is the suite that is slow, not the server.
func fragmentPiece(c *client) int {
	n := 0
	if c.env.v1 == nil && c.role != nil && c.role.Request != nil {
		n = len(c.role.Request(c.id, 0))
	}
	return max(1, n/fragmentPieces)
}
