package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// script is a connection whose server side is fixed: reads come from in,
// then err (io.EOF if nil); writes go to out.
type script struct {
	in  io.Reader
	err error
	out bytes.Buffer
}

func newScript(in string, err error) *script { return &script{in: strings.NewReader(in), err: err} }

func (s *script) Read(p []byte) (int, error) {
	n, err := s.in.Read(p)
	if err == io.EOF && s.err != nil {
		err = s.err
	}
	return n, err
}

func (s *script) Write(p []byte) (int, error) { return s.out.Write(p) }

func TestClientConversation(t *testing.T) {
	conn := newScript("HELLO red,blue\nTALLY 0 red=0 blue=0\nOK 1\nTALLY 1 red=1 blue=0\r\n"+
		"TALLY 1 red=1 blue=0\nTALLY 3 red=1 blue=2\nERR unknown-option no such option: pink\nBYE\n", nil)
	c := NewClient(conn)
	if m, err := c.Greet(); err != nil || m.Kind != MsgHello || strings.Join(c.Options(), ",") != "red,blue" {
		t.Fatalf("Greet: %v, %v, options %q", m, err, c.Options())
	}
	if m, err := c.WaitTally(0); err != nil || m.String() != "TALLY 0 red=0 blue=0" {
		t.Fatalf("the current tally: %v, %v", m, err)
	}
	for _, send := range []func() error{
		func() error { return c.Vote("red") }, c.Query, func() error { return c.Vote("pink") }, c.Quit,
	} {
		if err := send(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := conn.out.String(), "VOTE red\nTALLY\nVOTE pink\nQUIT\n"; got != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
	if m, err := c.Reply(); err != nil || m.Kind != MsgOK || m.Seq != 1 {
		t.Fatalf("reply to the vote: %v, %v", m, err)
	}
	if m, err := c.WaitTally(2); err != nil || m.Seq != 3 || m.Counts[1] != 2 {
		t.Fatalf("WaitTally(2): %v, %v", m, err)
	}
	if m, ok := c.LastTally(); !ok || m.Seq != 3 {
		t.Fatalf("LastTally: %v %v", m, ok)
	}
	if m, err := c.WaitTally(3); err != nil || m.Seq != 3 {
		t.Fatalf("WaitTally(3), already read: %v, %v", m, err)
	}
	msgs, err := c.Drain()
	if err != nil || len(msgs) != 2 || msgs[0].Code != CodeUnknownOption || msgs[1].Kind != MsgBye {
		t.Fatalf("Drain: %v, %v", msgs, err)
	}
}

func TestClientViolations(t *testing.T) {
	for name, in := range map[string]string{
		"pushed twice": "HELLO a\nTALLY 0 a=0\nTALLY 1 a=1\nTALLY 1 a=1\n",
		"bad line":     "HELLO a\nTALLY 0 a=0\nTALLY 1 b=1\n",
		"long line":    "HELLO a\nTALLY 0 a=0\nERR bad-request " + strings.Repeat("x", MaxServerLine) + "\n",
		"not HELLO":    "OK 1\n",
	} {
		c := NewClient(newScript(in, nil))
		msgs, err := c.Drain()
		if !errors.Is(err, ErrViolation) {
			t.Errorf("%s: Drain returned %v, %v; want ErrViolation", name, msgs, err)
		}
	}
	c := NewClient(newScript("ERR busy too many clients\n", nil))
	if m, err := c.Greet(); err == nil || m.Kind != MsgErr || m.Code != CodeBusy {
		t.Errorf("refused: Greet returned %v, %v", m, err)
	}
}

func TestClientEnds(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, tc := range []struct {
		name string
		in   string
		err  error // after in
		msgs int
		want error // from Drain
	}{
		{"EOF", "HELLO a\nTALLY 0 a=0\n", nil, 2, nil},
		{"reset", "HELLO a\nTALLY 0 a=0\n", reset, 2, nil},
		{"unfinished line", "HELLO a\nTALLY 0 a", nil, 1, io.ErrUnexpectedEOF},
		{"reset in a line", "HELLO a\nTALLY 0 a", reset, 1, syscall.ECONNRESET},
	} {
		msgs, err := NewClient(newScript(tc.in, tc.err)).Drain()
		if len(msgs) != tc.msgs || (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: Drain returned %v, %v; want %d lines, %v", tc.name, msgs, err, tc.msgs, tc.want)
		}
	}
}

// TestReadLineAfterDeadline: a read that times out in the middle of a line
// loses nothing; the next read returns the whole line.
func TestReadLineAfterDeadline(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	conn := &pieces{reads: []string{"TALLY 1 a", "", "=1\nOK 2\n"}, errs: []error{nil, timeout, nil}}
	c := NewClient(conn)
	if line, err := c.ReadLine(); !errors.Is(err, os.ErrDeadlineExceeded) || string(line) != "TALLY 1 a" {
		t.Fatalf("got %q, %v; want the start of the line and a timeout", line, err)
	}
	for _, want := range []string{"TALLY 1 a=1", "OK 2"} {
		if line, err := c.ReadLine(); err != nil || string(line) != want {
			t.Fatalf("got %q, %v; want %q", line, err, want)
		}
	}
	if line, err := c.ReadLine(); err != io.EOF || len(line) != 0 {
		t.Fatalf("at the end: %q, %v", line, err)
	}
}

// pieces is a connection whose reads return reads[i] and errs[i] in turn,
// then io.EOF.
type pieces struct {
	reads []string
	errs  []error
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.reads) == 0 {
		return 0, io.EOF
	}
	n, err := copy(b, p.reads[0]), p.errs[0]
	p.reads, p.errs = p.reads[1:], p.errs[1:]
	return n, err
}

func (p *pieces) Write(b []byte) (int, error) { return len(b), nil }

func TestKindOf(t *testing.T) {
	for line, want := range map[string]MsgKind{
		"TALLY 1 a=1\n": MsgTally, "OK 3": MsgOK, "ERR busy": MsgErr, "BYE\r\n": MsgBye, "HELLO a": MsgHello,
		"": 0, "OKAY 1": 0, "ok 1": 0, " OK 1": 0, "TALLY": MsgTally,
	} {
		if got := KindOf(line); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", line, got, want)
		}
		if got := KindOf([]byte(line)); got != want {
			t.Errorf("KindOf([]byte(%q)) = %v, want %v", line, got, want)
		}
	}
	line := []byte("TALLY 3 red=1 green=2\n")
	if n := testing.AllocsPerRun(100, func() { KindOf(line) }); n != 0 {
		t.Errorf("KindOf allocates %v times", n)
	}
}

func TestMsgString(t *testing.T) {
	for _, tc := range []struct {
		m    Msg
		want string
	}{
		{Msg{Kind: MsgHello, Options: []string{"a", "b"}}, "HELLO a,b"},
		{Msg{Kind: MsgOK, Seq: 7}, "OK 7"},
		{Msg{Kind: MsgTally, Seq: 3, Options: []string{"a", "b"}, Counts: []uint64{1, 2}}, "TALLY 3 a=1 b=2"},
		{Msg{Kind: MsgTally, Seq: 3, Counts: []uint64{1, 2}}, "TALLY 3 1 2"},
		{Msg{Kind: MsgErr, Code: CodeBusy, Text: "too many"}, "ERR busy too many"},
		{Msg{Kind: MsgErr, Code: CodeBadRequest}, "ERR bad-request"},
		{Msg{Kind: MsgBye}, "BYE"},
		{Msg{}, "MsgKind(0)"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestAppendRequests(t *testing.T) {
	got := AppendQuit(AppendQuery(AppendVote(nil, "red")))
	if string(got) != "VOTE red\nTALLY\nQUIT\n" {
		t.Fatalf("got %q", got)
	}
	for _, line := range bytes.SplitAfter(got, []byte("\n"))[:3] {
		if _, err := ParseRequest(line); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
}

// TestClientCountsWholeRequests: a Query that completes an unfinished line
// sent before it is no TALLY request ("TALTALLY"), so a repeated TALLY is
// then no answer; a Query after whole lines is one.
func TestClientCountsWholeRequests(t *testing.T) {
	in := "HELLO a\nTALLY 0 a=0\nTALLY 0 a=0\n"
	c := NewClient(newScript(in, nil))
	c.Send("TAL")
	c.Query()
	if _, err := c.Drain(); !errors.Is(err, ErrViolation) {
		t.Errorf("after \"TAL\" and a Query: Drain returned %v, want ErrViolation", err)
	}
	c = NewClient(newScript(in, nil))
	c.Send("VOTE a\n")
	c.Query()
	if msgs, err := c.Drain(); err != nil || len(msgs) != 3 {
		t.Errorf("after a vote and a Query: Drain returned %v, %v", msgs, err)
	}
}
