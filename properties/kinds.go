package properties

import (
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// kind is how a client behaves.
type kind int

const (
	healthy    kind = iota // reads everything, votes, expects answers
	fragmenter             // healthy, but writes a byte at a time and reads in random short pieces
	garbler                // healthy, but also sends malformed lines
	stalled                // never reads: the server's writes to it block
	trickler               // reads 64 bytes a millisecond
	flooder                // sends votes and never reads
	slowloris              // sends half a line and nothing more
	numKinds
)

var kindNames = [...]string{"healthy", "fragmenter", "garbler", "stalled", "trickler", "flooder", "slowloris"}

func (k kind) String() string { return kindNames[k] }

// GoString makes rapid print the kind by name.
func (k kind) GoString() string { return kindNames[k] }

// answers reports whether clients of this kind read everything and so must
// see every request answered within the bound.
func (k kind) answers() bool { return k == healthy || k == fragmenter || k == garbler }

// setup injects the kind's faults into the client's end.
func (k kind) setup(c *client) {
	switch k {
	case fragmenter:
		c.conn.Inject(faultnet.ShortWrites(1))
		c.conn.Inject(faultnet.RandomShortReads(7))
	case stalled, flooder:
		c.stall = c.conn.Inject(faultnet.StallReads())
	case trickler:
		c.conn.Inject(faultnet.TrickleReads(64, time.Millisecond))
	}
}
