package properties

import "slices"

// Adapter lets Run drive a server that speaks its own line protocol rather
// than protocol v1. The generic properties (progress, isolation, bounded,
// leaks) then run with requests made by the adapter; the vote-specific ones
// (consistency, halfclose) are skipped.
type Adapter struct {
	// Greeting is the number of lines the server sends on connect before it
	// reads requests (0 for none).
	Greeting int
	// Request returns the n-th request (from 0) of client id, a whole line
	// with its "\n". Each request must get exactly one reply.
	Request func(id, n int) string
	// IsReply reports whether a line from the server is the reply to the
	// oldest unanswered request, rather than something pushed (a broadcast).
	IsReply func(line string) bool
}

// WithAdapter runs the generic properties through a for a server with its
// own protocol.
func WithAdapter(a Adapter) Option {
	return option("WithAdapter(...)", func(c *config) { c.adapter = &a })
}

func (p property) generic() bool {
	switch p.name {
	case propProgress, propIsolation, propBounded, propLeaks:
		return true
	}
	return false
}

// genericKinds drops the kinds that speak protocol v1 on purpose.
func genericKinds(ks []kind) []kind {
	return slices.DeleteFunc(slices.Clone(ks), func(k kind) bool { return k == garbler })
}

// genericOps drops the steps that need protocol v1.
func genericOps(ops []op) []op {
	return slices.DeleteFunc(slices.Clone(ops), func(o op) bool {
		return o == opQuery || o == opGarbage || o == opHalfClose
	})
}
