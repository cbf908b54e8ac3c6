package properties

import (
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// kind is how a client behaves.
type kind int

const (
	healthy    kind = iota // reads everything, makes requests, expects answers
	fragmenter             // healthy, but writes a byte at a time and reads in random short pieces
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
		c.inject(faultnet.ShortWrites(1))
		c.inject(faultnet.RandomShortReads(7))
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
