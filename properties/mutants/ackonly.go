package mutants

import (
	"bufio"
	"context"
	"net"
	"sync/atomic"

	"github.com/stallproof/stallproof/wire"
)

// AckOnly is NOT a mutant (All doesn't list it): it is the I/O limit for
// benchmarks. It runs a server that answers VOTE with OK <seq> (seqs unique
// and increasing, from one atomic counter) doing the same I/O as a real
// server, one buffered reader and writer per connection, flushed when no
// more input is buffered, but keeps no tally and pushes nothing: TALLY is
// answered with ERR bad-request. It offers DefaultOptions, and otherwise
// behaves like a mutant's Serve (HELLO, ERR codes, QUIT, shutdown on ctx).
func AckOnly(ctx context.Context, ln net.Listener) error {
	return AckOnlyOptions(DefaultOptions)(ctx, ln)
}

// AckOnlyOptions is AckOnly offering opts.
func AckOnlyOptions(opts []string) func(ctx context.Context, ln net.Listener) error {
	return Mutant{build: ackOnly}.ServeOptions(opts)
}

func ackOnly(s *server) {
	var next atomic.Uint64
	s.newSink = func(c *client) sink {
		return &buffered{conn: c.conn, r: newLineReader(c.conn), w: bufio.NewWriter(c.conn)}
	}
	s.vote = func(c *client, _ int) {
		b := c.sink.(*buffered)
		b.scratch = wire.AppendOK(b.scratch[:0], next.Add(1))
		b.reply(b.scratch)
	}
	s.query = func(c *client) {
		c.sink.reply(wire.AppendErr(nil, wire.CodeBadRequest, "the ack-only server keeps no tally"))
	}
	s.readLoop = func(c *client) error {
		b := c.sink.(*buffered)
		for {
			if b.r.Buffered() == 0 {
				if err := b.w.Flush(); err != nil {
					return err
				}
			}
			line, err := readLine(b.r)
			if err != nil {
				s.readFailed(c, err)
				return err
			}
			if !s.dispatch(c, line) {
				return nil
			}
		}
	}
}

// buffered is a sink used only by the connection's own goroutine: replies
// go to a bufio.Writer that the read loop flushes before it waits for input.
type buffered struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer

	scratch []byte
}

func (b *buffered) reply(line []byte) bool {
	_, err := b.w.Write(line)
	return err == nil
}
func (b *buffered) last(line []byte)      { b.reply(line) }
func (b *buffered) room() bool            { return true }
func (b *buffered) answer(uint64, []byte) {}
func (b *buffered) push(uint64, []byte)   {}
func (b *buffered) finish() {
	b.w.Flush()
	b.conn.Close()
}
