package wire

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// MaxLine is the longest line, terminator included, that a client may send.
// A server's HELLO and TALLY lines grow with its options and may be longer:
// see MaxServerLine.
const MaxLine = 256

// MaxServerLine bounds the length of any line a server sends: a TALLY with
// MaxOptions options of MaxOptionLen bytes, every count and the seq at 20
// digits, terminator included.
const MaxServerLine = len("TALLY ") + 20 + MaxOptions*(1+MaxOptionLen+1+20) + 1

// Limits on the options a server offers.
const (
	MaxOptionLen = 32 // bytes in one option name
	MaxOptions   = 64 // options one server offers
)

// Error codes sent in ERR lines.
const (
	CodeUnknownOption = "unknown-option"
	CodeBadRequest    = "bad-request"
	CodeLineTooLong   = "line-too-long"
	CodeBusy          = "busy"
	CodeShuttingDown  = "shutting-down"
)

// RequestKind is the kind of a line sent by a client; [MsgKind] is the
// kind of a line sent by a server.
type RequestKind uint8

// Request kinds.
const (
	Vote  RequestKind = iota + 1 // VOTE <option>
	Tally                        // TALLY
	Quit                         // QUIT
)

var requestVerbs = [...]string{Vote: "VOTE", Tally: "TALLY", Quit: "QUIT"}

// String returns the request's verb: "VOTE", "TALLY" or "QUIT".
func (k RequestKind) String() string { return verb(requestVerbs[:], int(k), "RequestKind") }

// Request is one parsed client line.
type Request struct {
	Kind   RequestKind
	Option []byte // for Vote: the option's name, aliasing the parsed line
}

// ErrBadRequest is returned by ParseRequest for a line that is not a request.
var ErrBadRequest = errors.New("bad-request")

// ParseRequest parses one client line. The line may or may not still carry
// its "\n" or "\r\n" terminator. It returns ErrBadRequest, wrapped with a
// human-readable reason, for anything that is not exactly one of the three
// requests. It does not check that a voted option exists: that is the
// server's business (CodeUnknownOption). Request.Option aliases line.
func ParseRequest(line []byte) (Request, error) {
	line = TrimEOL(line)
	switch {
	case string(line) == "TALLY":
		return Request{Kind: Tally}, nil
	case string(line) == "QUIT":
		return Request{Kind: Quit}, nil
	case bytes.HasPrefix(line, []byte("VOTE ")):
		opt := line[len("VOTE "):]
		if !ValidOption(opt) {
			return Request{}, fmt.Errorf("%w: malformed option name", ErrBadRequest)
		}
		return Request{Kind: Vote, Option: opt}, nil
	case len(line) == 0:
		return Request{}, fmt.Errorf("%w: empty line", ErrBadRequest)
	}
	return Request{}, fmt.Errorf("%w: expected VOTE <option>, TALLY or QUIT", ErrBadRequest)
}

// TrimEOL removes one trailing "\n" or "\r\n".
func TrimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line
}

// ValidOption reports whether name is a legal option name: 1 to 32 bytes of
// [a-z0-9_-].
func ValidOption[S ~string | ~[]byte](name S) bool {
	if len(name) == 0 || len(name) > MaxOptionLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateOptions checks a server's option list: 1 to 64 distinct legal names.
func ValidateOptions(opts []string) error {
	if len(opts) == 0 || len(opts) > MaxOptions {
		return fmt.Errorf("wire: %d options, want 1 to %d", len(opts), MaxOptions)
	}
	seen := make(map[string]bool, len(opts))
	for _, o := range opts {
		if !ValidOption(o) {
			return fmt.Errorf("wire: option %q: want 1 to %d bytes of [a-z0-9_-]", o, MaxOptionLen)
		}
		if seen[o] {
			return fmt.Errorf("wire: option %q listed twice", o)
		}
		seen[o] = true
	}
	return nil
}

// AppendHello appends "HELLO a,b,c\n".
func AppendHello(dst []byte, opts []string) []byte {
	dst = append(dst, "HELLO "...)
	for i, o := range opts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, o...)
	}
	return append(dst, '\n')
}

// AppendOK appends "OK <seq>\n".
func AppendOK(dst []byte, seq uint64) []byte {
	dst = append(dst, "OK "...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, '\n')
}

// AppendTally appends "TALLY <seq> a=n b=m ...\n". counts[i] is the count of
// opts[i]; the caller guarantees they sum to seq.
func AppendTally(dst []byte, seq uint64, opts []string, counts []uint64) []byte {
	dst = append(dst, "TALLY "...)
	dst = strconv.AppendUint(dst, seq, 10)
	for i, o := range opts {
		dst = append(dst, ' ')
		dst = append(dst, o...)
		dst = append(dst, '=')
		dst = strconv.AppendUint(dst, counts[i], 10)
	}
	return append(dst, '\n')
}

// AppendErr appends "ERR <code> <text>\n".
func AppendErr(dst []byte, code, text string) []byte {
	dst = append(dst, "ERR "...)
	dst = append(dst, code...)
	if text != "" {
		dst = append(dst, ' ')
		dst = append(dst, text...)
	}
	return append(dst, '\n')
}

// AppendBye appends "BYE\n".
func AppendBye(dst []byte) []byte { return append(dst, "BYE\n"...) }

// AppendVote appends the request "VOTE <opt>\n". It does not check opt:
// a test may well send a bad one.
func AppendVote(dst []byte, opt string) []byte {
	dst = append(dst, "VOTE "...)
	dst = append(dst, opt...)
	return append(dst, '\n')
}

// AppendQuery appends the request "TALLY\n", which asks for the current
// tally.
func AppendQuery(dst []byte) []byte { return append(dst, "TALLY\n"...) }

// AppendQuit appends the request "QUIT\n".
func AppendQuit(dst []byte) []byte { return append(dst, "QUIT\n"...) }
