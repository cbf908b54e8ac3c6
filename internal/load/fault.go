package load

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// A Fault is what a faulty client starts doing at its scheduled time.
type Fault uint8

// The faults. A faulty client is a subscriber: until its fault it reads
// every line the server pushes, and it never votes.
const (
	Stall     Fault = iota + 1 // stops reading (faultnet.StallReads)
	Trickle                    // reads TrickleBytes every TrickleEvery (faultnet.TrickleReads)
	HalfClose                  // closes its write side; keeps reading until the server closes
	Reset                      // resets the connection (faultnet.Reset)
)

// Trickle's pace: 16 bytes every 100 ms, 160 B/s, about five tally lines a
// second.
const (
	TrickleBytes = 16
	TrickleEvery = 100 * time.Millisecond
)

var faultNames = [...]string{Stall: "stall", Trickle: "trickle", HalfClose: "halfclose", Reset: "reset"}

func (f Fault) String() string {
	if int(f) < len(faultNames) && faultNames[f] != "" {
		return faultNames[f]
	}
	return fmt.Sprintf("Fault(%d)", uint8(f))
}

// MarshalText writes the fault's name.
func (f Fault) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// ParseFaults parses a comma-separated fault mix such as
// "stall,trickle,halfclose,reset". A name may repeat to weigh the mix.
func ParseFaults(s string) ([]Fault, error) {
	var out []Fault
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		found := false
		for f, n := range faultNames {
			if n != "" && n == name {
				out = append(out, Fault(f))
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown fault %q (want stall, trickle, halfclose or reset)", name)
		}
	}
	return out, nil
}

// FormatFaults is the inverse of ParseFaults.
func FormatFaults(fs []Fault) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.String()
	}
	return strings.Join(names, ",")
}

// apply starts fault f on the client's end of the connection.
func (f Fault) apply(c *faultnet.Conn) {
	switch f {
	case Stall:
		c.Inject(faultnet.StallReads())
	case Trickle:
		c.Inject(faultnet.TrickleReads(TrickleBytes, TrickleEvery))
	case HalfClose:
		_ = c.CloseWrite()
	case Reset:
		c.Inject(faultnet.Reset())
	}
}

// closedByServer reports whether a connection that ended after fault f was
// closed by the server on its own: a stalled or trickling client that the
// server evicted. A half-closed or reset client ends its connection itself.
func (f Fault) closedByServer() bool { return f == Stall || f == Trickle }

// asFaultnet returns c as a *faultnet.Conn, wrapping it if it is not one,
// so that faults can be injected into any connection.
func asFaultnet(c net.Conn) *faultnet.Conn {
	if fc, ok := c.(*faultnet.Conn); ok {
		return fc
	}
	return faultnet.Wrap(c)
}
