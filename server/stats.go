package server

import (
	"expvar"
	"sync/atomic"
)

// reason is why the server closed a client on its own.
type reason uint8

const (
	reasonNone         reason = iota
	reasonWriteTimeout        // slow consumer: a write blocked longer than WriteTimeout
	reasonQueueFull           // slow consumer: queued replies over MaxReplyBytes
	reasonLineTimeout         // slowloris: a line took longer than LineTimeout
	reasonLineTooLong         // a line over wire.MaxLine
)

func (r reason) String() string {
	switch r {
	case reasonWriteTimeout:
		return "write-timeout"
	case reasonQueueFull:
		return "queue-full"
	case reasonLineTimeout:
		return "line-timeout"
	case reasonLineTooLong:
		return "line-too-long"
	}
	return "none"
}

// Stats is a snapshot of a server's counters. Counters only grow, except
// Connections.
type Stats struct {
	// Seq is the number of votes counted: the seq of the latest vote.
	Seq uint64
	// Votes holds the count of each option; they sum to Seq.
	Votes map[string]uint64

	Connections  int    // clients connected now
	Accepted     uint64 // clients accepted and served
	Busy         uint64 // clients refused with "ERR busy" (MaxConns)
	AcceptErrors uint64 // errors returned by the listener's Accept

	Snapshots          uint64 // tallies broadcast: snapshots built and offered to every client
	SnapshotsSent      uint64 // pushed TALLY lines written to clients
	SnapshotsConflated uint64 // pushed tallies replaced by a newer one before they were written

	Evictions Evictions // slow consumers closed, by reason
	Closed    Closed    // clients closed for breaking the protocol, by reason
}

// Evictions counts slow consumers closed by the server.
type Evictions struct {
	WriteTimeout uint64 // a write blocked longer than Config.WriteTimeout
	QueueFull    uint64 // replies queued beyond Config.MaxReplyBytes
}

// Closed counts clients closed for breaking the protocol.
type Closed struct {
	LineTooLong uint64 // a line longer than 256 bytes
	LineTimeout uint64 // a line not finished within Config.LineTimeout
}

// counters are the server's live counters; all atomic.
type counters struct {
	accepted, busy, acceptErrors atomic.Uint64
	sent, conflated, broadcasts  atomic.Uint64
	writeTimeout, queueFull      atomic.Uint64
	lineTooLong, lineTimeout     atomic.Uint64
	conns                        atomic.Int64
}

func (c *counters) count(r reason) {
	switch r {
	case reasonWriteTimeout:
		c.writeTimeout.Add(1)
	case reasonQueueFull:
		c.queueFull.Add(1)
	case reasonLineTimeout:
		c.lineTimeout.Add(1)
	case reasonLineTooLong:
		c.lineTooLong.Add(1)
	}
}

// Stats returns a snapshot of the server's counters. The tally in it is
// consistent (Votes sum to Seq); the other counters are read one by one.
func (s *Server) Stats() Stats {
	counts := make([]uint64, len(s.set.options))
	seq := s.tally.read(counts)
	votes := make(map[string]uint64, len(counts))
	for i, o := range s.set.options {
		votes[o] = counts[i]
	}
	c := &s.stats
	return Stats{
		Seq:                seq,
		Votes:              votes,
		Connections:        int(c.conns.Load()),
		Accepted:           c.accepted.Load(),
		Busy:               c.busy.Load(),
		AcceptErrors:       c.acceptErrors.Load(),
		Snapshots:          c.broadcasts.Load(),
		SnapshotsSent:      c.sent.Load(),
		SnapshotsConflated: c.conflated.Load(),
		Evictions: Evictions{
			WriteTimeout: c.writeTimeout.Load(),
			QueueFull:    c.queueFull.Load(),
		},
		Closed: Closed{
			LineTooLong: c.lineTooLong.Load(),
			LineTimeout: c.lineTimeout.Load(),
		},
	}
}

// Var returns an expvar.Var that reports s.Stats() as JSON. The server
// publishes nothing itself, because expvar.Publish panics on a duplicate
// name and a process (a test binary) may run many servers; the program
// that owns the server publishes it once:
//
//	expvar.Publish("stallproof", srv.Var())
func (s *Server) Var() expvar.Var {
	return expvar.Func(func() any { return s.Stats() })
}
