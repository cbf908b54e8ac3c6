package wire

import (
	"bufio"
	"bytes"
	"testing"
)

// echo is a connection to a server that answers every write with one
// line, at once, without goroutines: what is left is the client's cost.
type echo struct {
	answer []byte
	out    bytes.Buffer
}

func (e *echo) Write(p []byte) (int, error) {
	e.out.Write(e.answer)
	return len(p), nil
}

func (e *echo) Read(p []byte) (int, error) { return e.out.Read(p) }

// BenchmarkVoteRoundTrip: the client's cost of one vote and the read of
// its OK as a load generator does it (Vote, ReadLine, KindOf), against the
// same I/O done by hand (a prebuilt line, bufio, a prefix test): the
// Client must stay cheap enough for internal/load. Both allocate nothing.
func BenchmarkVoteRoundTrip(b *testing.B) {
	b.Run("client", func(b *testing.B) {
		c := NewClient(&echo{answer: []byte("OK 12345\n")})
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Vote("red"); err != nil {
				b.Fatal(err)
			}
			line, err := c.ReadLine()
			if err != nil || KindOf(line) != MsgOK {
				b.Fatalf("%q %v", line, err)
			}
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		conn := &echo{answer: []byte("OK 12345\n")}
		br := bufio.NewReaderSize(conn, readBuffer)
		vote := []byte("VOTE red\n")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.Write(vote); err != nil {
				b.Fatal(err)
			}
			line, err := br.ReadSlice('\n')
			if err != nil || !bytes.HasPrefix(line, []byte("OK ")) {
				b.Fatalf("%q %v", line, err)
			}
		}
	})
}
