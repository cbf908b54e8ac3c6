package main

import (
	"errors"
	"fmt"

	"github.com/stallproof/stallproof/faultnet"
)

// Streams name directions as toxiproxy does: "upstream" is the data from
// the client to the server, "downstream" from the server to the client. A
// fault given for a stream goes on the leg where the proxy does what the
// fault changes:
//
//	                      upstream (client→server)   downstream (server→client)
//	reads (stall_reads…)  client leg                 upstream leg
//	writes (latency…)     upstream leg               client leg
//
// Reading faults are stall_reads, trickle_reads, short_reads,
// random_short_reads, close_read and after_read (which counts the bytes
// read); the others act on what the leg sends, close_write, close and
// reset included (toward the server for upstream, the client for
// downstream); after_time goes where its "then" goes. The old form, a leg
// ("leg": "client" or "upstream"), is still accepted.

// Stream names.
const (
	streamUp   = "upstream"
	streamDown = "downstream"
)

var readingKinds = map[string]bool{
	"stall_reads": true, "trickle_reads": true, "short_reads": true, "random_short_reads": true,
	"close_read": true, "after_read": true,
}

// reads reports whether the fault acts on what its leg reads.
func (s *faultSpec) reads() bool {
	if s.Kind == "after_time" && s.Then != nil {
		return s.Then.reads()
	}
	return readingKinds[s.Kind]
}

// legFor returns the leg on which s acts on stream.
func (s *faultSpec) legFor(stream string) (faultnet.Leg, error) {
	var up bool
	switch stream {
	case streamUp:
		up = true
	case streamDown:
	case "":
		return 0, errors.New(`no stream: want "upstream" (client to server) or "downstream" (server to client)`)
	default:
		return 0, fmt.Errorf(`unknown stream %q: want "upstream" (client to server) or "downstream" (server to client)`, stream)
	}
	if up != s.reads() {
		return faultnet.UpstreamLeg, nil
	}
	return faultnet.ClientLeg, nil
}

// streamOf returns the stream s acts on when injected into leg.
func (s *faultSpec) streamOf(leg faultnet.Leg) string {
	if (leg == faultnet.UpstreamLeg) != s.reads() {
		return streamUp
	}
	return streamDown
}
