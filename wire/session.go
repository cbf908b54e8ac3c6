package wire

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrViolation is wrapped by every error Session.Received and Client
// return for a line the server should not have sent: a malformed line, or
// one that breaks the ordering rules of protocol v1.
var ErrViolation = errors.New("the server broke protocol v1")

// Session is one client's side of a protocol v1 conversation, without the
// I/O: it is told the bytes the client sends (Sent) and each line the
// server sends (Received), and checks every line against the rules for
// that client:
//   - the first line is HELLO, or an ERR (busy) that refuses the client;
//     the line after HELLO is the current TALLY;
//   - every line parses (ParseMsg), each TALLY against the HELLO options;
//   - there is no second HELLO, and no line after BYE, ERR line-too-long or
//     a refusal (the server closes then);
//   - TALLY seqs never go back, and a TALLY repeats the seq before it only
//     as the answer to a TALLY request (a pushed tally is always newer), so
//     at most as often as the client sent TALLY;
//   - OK seqs increase (the client's votes are counted in the order sent).
//
// Client is a Session over a connection; a harness that reads and writes
// the connection itself can use a Session alone. The zero value is ready
// for a new connection.
//
// Sent may run in one goroutine while the other methods run in another (a
// writer and a reader); a Session is otherwise not safe for concurrent use.
type Session struct {
	// Writer side.
	queries atomic.Int64 // TALLY requests sent
	partial []byte       // the unfinished line sent so far, up to MaxLine bytes
	long    bool         // that line is over MaxLine bytes: not a request

	// Reader side.
	lines   int // lines received
	state   sessionState
	opts    []string
	tally   Msg
	tallies int
	repeats int64 // TALLY lines that repeated the seq of the one before, as answers
	lastOK  uint64
}

type sessionState uint8

const (
	awaitHello sessionState = iota // no line yet
	awaitTally                     // HELLO received, not yet the current TALLY
	greeted                        // in the conversation
	ended                          // after BYE, ERR line-too-long or a refusal
)

// Sent notes bytes the client wrote, so that the session knows how many
// TALLY requests the server has been sent. Lines may be split across calls
// in any way.
func (s *Session) Sent(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.keep(p)
			return
		}
		line := p[:i+1]
		if len(s.partial) > 0 || s.long {
			s.keep(line)
			line = s.partial
		}
		if !s.long {
			if req, err := ParseRequest(line); err == nil && req.Kind == Tally {
				s.queries.Add(1)
			}
		}
		s.partial, s.long = s.partial[:0], false
		p = p[i+1:]
	}
}

// sentRequest is Sent for p, one whole request of kind k, without
// parsing it again when no unfinished line comes before it.
func (s *Session) sentRequest(p []byte, k RequestKind) {
	if len(s.partial) > 0 || s.long {
		s.Sent(p)
		return
	}
	if k == Tally {
		s.queries.Add(1)
	}
}

// keep adds p to the unfinished line, up to MaxLine bytes.
func (s *Session) keep(p []byte) {
	if s.long || len(s.partial)+len(p) > MaxLine {
		s.long = true
		return
	}
	s.partial = append(s.partial, p...)
}

// Received parses one line the server sent, with or without its
// terminator, and checks it against the rules above. It returns the
// message, and an error wrapping ErrViolation if the line breaks a rule:
// then the message is the zero Msg if the line did not parse, and the
// parsed line otherwise (a TALLY that went back does not become the
// latest: LastTally stays the newest).
func (s *Session) Received(line string) (Msg, error) {
	s.lines++
	m, err := ParseMsg(line, s.opts)
	if err != nil {
		return Msg{}, fmt.Errorf("%w: line %d: %v", ErrViolation, s.lines, err)
	}
	switch s.state {
	case awaitHello:
		switch m.Kind {
		case MsgHello:
			s.opts, s.state = m.Options, awaitTally
			return m, nil
		case MsgErr:
			s.state = ended
			return m, nil
		}
		return m, s.violation("first line %q: want HELLO", m)
	case awaitTally:
		s.state = greeted
		if m.Kind != MsgTally {
			return m, s.violation("%q right after HELLO: want the current TALLY", m)
		}
	case ended:
		return m, s.violation("%q after the server's last line", m)
	}
	switch m.Kind {
	case MsgHello:
		return m, s.violation("a second HELLO")
	case MsgTally:
		return m, s.onTally(m)
	case MsgOK:
		prev := s.lastOK
		s.lastOK = max(s.lastOK, m.Seq)
		if m.Seq <= prev {
			return m, s.violation("OK %d after OK %d", m.Seq, prev)
		}
	case MsgBye:
		s.state = ended
	case MsgErr:
		if m.Code == CodeLineTooLong {
			s.state = ended
		}
	}
	return m, nil
}

func (s *Session) onTally(m Msg) error {
	prev, first := s.tally, s.tallies == 0
	s.tallies++
	switch {
	case first:
	case m.Seq < prev.Seq:
		return s.violation("TALLY %d after TALLY %d: tallies went back", m.Seq, prev.Seq)
	case m.Seq == prev.Seq:
		if q := s.queries.Load(); s.repeats >= q {
			return s.violation("TALLY %d again with no TALLY request left to answer (%d sent): a pushed tally must be newer", m.Seq, q)
		}
		s.repeats++
	}
	s.tally = m
	return nil
}

func (s *Session) violation(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrViolation, s.lines, fmt.Sprintf(format, args...))
}

// Options returns the options of the server's HELLO, nil before it.
func (s *Session) Options() []string { return s.opts }

// LastTally returns the latest TALLY received, and false if there was none.
func (s *Session) LastTally() (Msg, bool) { return s.tally, s.tallies > 0 }

// LastOK returns the seq of the latest OK received, 0 if none.
func (s *Session) LastOK() uint64 { return s.lastOK }
