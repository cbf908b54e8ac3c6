package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// Client is the client side of one protocol v1 connection: it sends
// requests, reads the server's lines and checks each against the rules
// for a client (see Session). It does no I/O of its own accord and sets no
// deadlines: bound its reads and writes with the connection's deadlines
// if the server may hang.
//
// One goroutine may send (Vote, Query, Quit, Send) while another reads
// (Greet, Next, Reply, WaitTally, Drain, ReadLine, and Options and
// LastTally, which tell what was read); a Client is otherwise not safe for
// concurrent use.
//
// Replies and pushes: OK, ERR and BYE are replies, one per request in
// request order; a TALLY is pushed at any time, or is the reply to a TALLY
// request. Reply skips TALLY lines to the next reply; WaitTally waits for a
// tally at least as new as a seq, which includes the reply to a TALLY
// request sent after that seq was acknowledged.
type Client struct {
	conn io.ReadWriter
	r    *bufio.Reader
	s    Session
	wbuf []byte // the request being sent
	line []byte // a line read in more than one piece
	done bool   // line was returned whole: start a new one
}

// readBuffer holds the longest line a server may send (MaxServerLine).
const readBuffer = 4096

// NewClient returns a Client over conn, a fresh connection to a protocol
// v1 server from which nothing has been read.
func NewClient(conn io.ReadWriter) *Client {
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, readBuffer)}
}

// Greet reads the greeting, HELLO, and returns it; Options then returns
// the server's options. The current TALLY that follows HELLO is read by
// the next read (Next, or WaitTally(0)). If the server refuses the client
// (ERR busy in place of HELLO), Greet returns that ERR and an error.
func (c *Client) Greet() (Msg, error) {
	m, err := c.Next()
	if err == nil && m.Kind != MsgHello {
		err = fmt.Errorf("wire: refused: %v", m)
	}
	return m, err
}

// Vote sends "VOTE <opt>\n". It does not wait for the answer (Reply does).
func (c *Client) Vote(opt string) error {
	c.wbuf = AppendVote(c.wbuf[:0], opt)
	return c.request(c.wbuf, Vote)
}

// Query sends "TALLY\n", which asks for the current tally.
func (c *Client) Query() error { return c.request(AppendQuery(c.wbuf[:0]), Tally) }

// Quit sends "QUIT\n": the server answers BYE and closes.
func (c *Client) Quit() error { return c.request(AppendQuit(c.wbuf[:0]), Quit) }

// Send sends raw bytes: any number of lines, bad or unfinished ones
// included. The TALLY requests among them are noted as Query notes its own.
func (c *Client) Send(raw string) error { return c.write([]byte(raw)) }

// write sends raw bytes, noted before the server can answer them.
func (c *Client) write(p []byte) error {
	c.s.Sent(p)
	_, err := c.conn.Write(p)
	return err
}

// request sends p, one request of kind k.
func (c *Client) request(p []byte, k RequestKind) error {
	c.s.sentRequest(p, k)
	_, err := c.conn.Write(p)
	return err
}

// Next reads the next line, parses it and checks it (Session.Received).
// It returns the message and an error: an I/O error, or one wrapping
// ErrViolation, with the parsed message if the line parsed but broke an
// ordering rule. io.EOF means the server closed after a whole line.
func (c *Client) Next() (Msg, error) {
	line, err := c.ReadLine()
	if err != nil {
		return Msg{}, err
	}
	return c.s.Received(string(line))
}

// Reply reads lines up to the next OK, ERR or BYE and returns it, skipping
// TALLY lines (pushes, and replies to TALLY requests). Every line is
// checked as by Next.
func (c *Client) Reply() (Msg, error) {
	for {
		m, err := c.Next()
		if err != nil || m.Kind != MsgTally {
			return m, err
		}
	}
}

// WaitTally returns the first tally with a seq of at least seq: the
// latest one read, or the next to arrive. It reads, and checks, every line
// in between, replies included.
func (c *Client) WaitTally(seq uint64) (Msg, error) {
	if m, ok := c.s.LastTally(); ok && m.Seq >= seq {
		return m, nil
	}
	for {
		m, err := c.Next()
		if err != nil {
			return m, err
		}
		if m.Kind == MsgTally && m.Seq >= seq {
			return m, nil
		}
	}
}

// Drain reads and checks every line until the server closes the
// connection, and returns them. A reset after the last whole line counts as
// a close: a server that closes with input unread resets the connection.
// An unfinished last line is an error (io.ErrUnexpectedEOF).
func (c *Client) Drain() ([]Msg, error) {
	var msgs []Msg
	for {
		m, err := c.Next()
		switch {
		case err == nil:
			msgs = append(msgs, m)
		case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) && len(c.line) == 0:
			return msgs, nil
		default:
			if errors.Is(err, ErrViolation) && m.Kind != 0 {
				msgs = append(msgs, m)
			}
			return msgs, err
		}
	}
}

// ReadLine reads the next line and returns it without its terminator,
// neither parsed nor checked (Session does not see it): for a load
// generator that only counts lines, or a test that looks at what a broken
// server sends. The line is valid until the next read.
//
// On an error it returns the unfinished line read so far, which it keeps:
// after a read deadline the next ReadLine goes on with that line. At EOF
// after an unfinished line, the error is io.ErrUnexpectedEOF. A line longer
// than MaxServerLine is an error wrapping ErrViolation.
func (c *Client) ReadLine() ([]byte, error) {
	if c.done {
		c.line, c.done = c.line[:0], false
	}
	for {
		frag, err := c.r.ReadSlice('\n')
		if err == nil && len(c.line) == 0 && len(frag) <= MaxServerLine+1 {
			return TrimEOL(frag), nil
		}
		c.line = append(c.line, frag...)
		if len(c.line) > MaxServerLine+1 { // +1: a "\r\n" terminator
			n := len(c.line)
			c.line = c.line[:0]
			return nil, fmt.Errorf("%w: a line of over %d bytes (%d read)", ErrViolation, MaxServerLine, n)
		}
		switch {
		case err == nil:
			c.done = true
			return TrimEOL(c.line), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(c.line) > 0:
			return c.line, io.ErrUnexpectedEOF
		}
		return c.line, err
	}
}

// Options returns the options of the server's HELLO, nil before Greet.
func (c *Client) Options() []string { return c.s.Options() }

// LastTally returns the latest TALLY read (by Next and the methods that
// use it), and false if there was none.
func (c *Client) LastTally() (Msg, bool) { return c.s.LastTally() }
