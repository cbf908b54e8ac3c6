package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		line string
		kind RequestKind
		opt  string
	}{
		{"VOTE red\n", Vote, "red"},
		{"VOTE red\r\n", Vote, "red"},
		{"VOTE a-b_9", Vote, "a-b_9"},
		{"TALLY\n", Tally, ""},
		{"QUIT\r\n", Quit, ""},
		{"VOTE " + strings.Repeat("z", MaxOptionLen) + "\n", Vote, strings.Repeat("z", MaxOptionLen)},
	} {
		req, err := ParseRequest([]byte(tc.line))
		if err != nil || req.Kind != tc.kind || string(req.Option) != tc.opt {
			t.Errorf("%q: got %v %q %v", tc.line, req.Kind, req.Option, err)
		}
	}
	for _, line := range []string{
		"", "\n", "\r\n", "vote red\n", "VOTE\n", "VOTE \n", "VOTE  red\n", "VOTE Red\n",
		"VOTE red \n", "VOTE red\r\r\n", "TALLY \n", " QUIT\n", "QUIT\n\n", "HELLO\n",
		"VOTE " + strings.Repeat("z", MaxOptionLen+1) + "\n",
	} {
		if req, err := ParseRequest([]byte(line)); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: got %+v, %v; want ErrBadRequest", line, req, err)
		}
	}
}

func TestValidateOptions(t *testing.T) {
	many := make([]string, MaxOptions+1)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	for _, opts := range [][]string{nil, {}, {"a", "a"}, {"A"}, {""}, {"a b"}, many} {
		if ValidateOptions(opts) == nil {
			t.Errorf("%q accepted", opts)
		}
	}
	if err := ValidateOptions(many[:MaxOptions]); err != nil {
		t.Errorf("64 options: %v", err)
	}
}

func TestAppendAndParseMsg(t *testing.T) {
	opts := []string{"red", "green", "blue"}
	lines := []struct {
		line string
		kind MsgKind
	}{
		{string(AppendHello(nil, opts)), MsgHello},
		{string(AppendOK(nil, 7)), MsgOK},
		{string(AppendTally(nil, 6, opts, []uint64{1, 2, 3})), MsgTally},
		{string(AppendErr(nil, CodeBusy, "too many clients")), MsgErr},
		{string(AppendErr(nil, CodeBadRequest, "")), MsgErr},
		{string(AppendBye(nil)), MsgBye},
	}
	for _, l := range lines {
		m, err := ParseMsg(l.line, opts)
		if err != nil || m.Kind != l.kind {
			t.Errorf("%q: %+v %v", l.line, m, err)
		}
	}
	for _, bad := range []string{
		"OK 0\n", "OK -1\n", "OK\n", "TALLY 5 red=1 green=2 blue=3\n", "TALLY 6 red=1 green=2\n",
		"TALLY 6 green=1 red=2 blue=3\n", "TALLY 0 red=18446744073709551615 green=1 blue=0\n",
		"ERR\n", "BYE now\n", "HELLO \n", "HELLO a,a\n", "NOPE\n",
	} {
		if m, err := ParseMsg(bad, opts); err == nil {
			t.Errorf("%q accepted as %+v", bad, m)
		}
	}
}

func TestMaxServerLine(t *testing.T) {
	opts := make([]string, MaxOptions)
	counts := make([]uint64, MaxOptions)
	for i := range opts {
		opts[i] = fmt.Sprintf("%0*d", MaxOptionLen, i)
		counts[i] = ^uint64(0)
	}
	if n := len(AppendTally(nil, ^uint64(0), opts, counts)); n > MaxServerLine {
		t.Fatalf("longest TALLY is %d bytes, MaxServerLine %d", n, MaxServerLine)
	}
	if n := len(AppendHello(nil, opts)); n > MaxServerLine {
		t.Fatalf("longest HELLO is %d bytes", n)
	}
}

func TestKindStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Vote.String(), "VOTE"}, {Quit.String(), "QUIT"}, {RequestKind(0).String(), "RequestKind(0)"},
		{RequestKind(9).String(), "RequestKind(9)"},
		{MsgHello.String(), "HELLO"}, {MsgBye.String(), "BYE"}, {MsgKind(0).String(), "MsgKind(0)"},
		{MsgKind(200).String(), "MsgKind(200)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestParseMsgCR: a CR is part of a line's terminator only right before
// its LF; anywhere else in a server's line it is a broken line, not text.
func TestParseMsgCR(t *testing.T) {
	for _, line := range []string{
		"ERR busy too many clients\r\r\n", "ERR busy too\rmany\n", "ERR busy\r\r\n", "ERR bu\rsy\n",
		"ERR busy text\r", "OK 1\r", "BYE\r",
	} {
		if m, err := ParseMsg(line, nil); err == nil {
			t.Errorf("%q accepted as %+v", line, m)
		}
	}
	for line, text := range map[string]string{
		"ERR busy too many clients\r\n": "too many clients",
		"ERR busy too many clients\n":   "too many clients",
		"ERR busy too many clients":     "too many clients",
	} {
		if m, err := ParseMsg(line, nil); err != nil || m.Kind != MsgErr || m.Code != CodeBusy || m.Text != text {
			t.Errorf("%q: got %+v, %v; want ERR busy %q", line, m, err, text)
		}
	}
}
