package server

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/wire"
)

// Seeds shared by the fuzz targets; more are committed under
// testdata/fuzz/<FuzzName>/.
var fuzzSeeds = []string{
	"VOTE red\n",
	"VOTE green\r\nTALLY\n",
	"TALLY\nQUIT\nVOTE red\n",
	"VOTE purple\nvote red\n\n\r\n",
	"VOTE " + strings.Repeat("a", 32) + "\n",
	strings.Repeat("x", wire.MaxLine-1) + "\n",
	strings.Repeat("x", wire.MaxLine) + "\n",
	"VOTE red\nVOTE re",
	"\x00\xff\xfe\n\rVOTE\tred\n",
}

// FuzzParseRequest checks the request parser on any line: it never panics,
// it accepts exactly the three requests, and what it accepts prints back
// as the same line.
func FuzzParseRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		req, err := wire.ParseRequest(line)
		if err != nil {
			if !errors.Is(err, wire.ErrBadRequest) {
				t.Fatalf("%q: error %v does not wrap ErrBadRequest", line, err)
			}
			return
		}
		var canon string
		switch req.Kind {
		case wire.Vote:
			if !wire.ValidOption(req.Option) {
				t.Fatalf("%q: accepted option %q", line, req.Option)
			}
			canon = "VOTE " + string(req.Option)
		case wire.Tally:
			canon = "TALLY"
		case wire.Quit:
			canon = "QUIT"
		default:
			t.Fatalf("%q: kind %v", line, req.Kind)
		}
		if got := string(wire.TrimEOL(line)); got != canon {
			t.Fatalf("%q parsed as %q", line, canon)
		}
	})
}

// FuzzParseMsg checks the client-side parser of server lines against the
// formatters: it never panics, it accepts no CR or LF inside a line, and
// whatever it accepts, formatted again (Msg.String), parses back to the
// same message. (That a TALLY sums to its seq is the parser's own guard,
// not checked again.)
func FuzzParseMsg(f *testing.F) {
	for _, s := range []string{
		"HELLO red,green,blue\n", "OK 1\n", "TALLY 3 red=1 green=2 blue=0\n",
		"ERR busy too many clients\n", "BYE\n", "TALLY 0\n", "OK 0\n", "TALLY 1 red=1 red=0\n",
		"ERR busy too many\r\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		inside := strings.ContainsAny(string(wire.TrimEOL([]byte(line))), "\r\n")
		for _, opts := range [][]string{nil, DefaultOptions} {
			m, err := wire.ParseMsg(line, opts)
			if err != nil {
				continue
			}
			if inside {
				t.Fatalf("%q, with a CR or LF inside, parsed as %+v", line, m)
			}
			if m.Kind < wire.MsgHello || m.Kind > wire.MsgBye {
				t.Fatalf("%q: parsed as kind %v", line, m.Kind)
			}
			if k := wire.KindOf(line); k != m.Kind {
				t.Fatalf("%q: KindOf says %v, ParseMsg %v", line, k, m.Kind)
			}
			again := m.String()
			back, err := wire.ParseMsg(again, opts)
			require.NoError(t, err, "%q parsed as %+v, formatted as %q", line, m, again)
			require.Equal(t, m, back, "%q formatted as %q", line, again)
		}
	})
}

// FuzzConn feeds a whole connection arbitrary bytes, at once or in small
// writes, then half-closes. The server must not panic or leak (Serve
// returns, so every goroutine it started ended), every line it sends must
// be well-formed, and the transcript must be exactly the model's.
func FuzzConn(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		if len(in) > 64<<10 {
			return
		}
		got := session(t, transports[0], in, int(chunk))
		if !bytes.HasSuffix(got, []byte("\n")) {
			t.Fatalf("output does not end in a whole line: %q", got)
		}
		for i, l := range strings.SplitAfter(string(got), "\n") {
			if l == "" {
				continue
			}
			if _, err := wire.ParseMsg(l, DefaultOptions); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
		}
		if want := model(DefaultOptions, in); !bytes.Equal(got, want) {
			t.Fatalf("in %q:\ngot\n%s\nwant\n%s", in, got, want)
		}
	})
}
