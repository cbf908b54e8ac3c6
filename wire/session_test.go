package wire

import (
	"errors"
	"strings"
	"testing"
)

// converse feeds s the lines of a conversation: "> " lines are sent by
// the client, the others by the server. It returns the index of the first
// line Received rejects (-1 if none) and its error.
func converse(s *Session, lines []string) (int, error) {
	for i, l := range lines {
		if req, ok := strings.CutPrefix(l, "> "); ok {
			s.Sent([]byte(req))
			continue
		}
		if _, err := s.Received(l); err != nil {
			return i, err
		}
	}
	return -1, nil
}

func TestSessionAccepts(t *testing.T) {
	for name, lines := range map[string][]string{
		"votes and pushes": {"HELLO a,b", "TALLY 0 a=0 b=0", "> VOTE a\n", "OK 1", "TALLY 1 a=1 b=0",
			"TALLY 3 a=1 b=2", "> VOTE b\n", "OK 4", "> QUIT\n", "BYE"},
		"a repeated tally answers TALLY": {"HELLO a", "TALLY 0 a=0", "> TALLY\n", "TALLY 0 a=0",
			"> TAL", "> LY\r\n", "TALLY 0 a=0"},
		"TALLY in one write with others": {"HELLO a", "TALLY 0 a=0", "> VOTE a\nTALLY\nVOTE x\n",
			"OK 1", "TALLY 1 a=1", "TALLY 1 a=1", "ERR unknown-option no such option"},
		"refused":             {"ERR busy too many clients"},
		"line too long ends":  {"HELLO a", "TALLY 0 a=0", "ERR line-too-long a line is at most 256 bytes"},
		"errors keep it open": {"HELLO a", "TALLY 0 a=0", "ERR bad-request", "ERR unknown-option x", "OK 1"},
	} {
		var s Session
		if i, err := converse(&s, lines); err != nil {
			t.Errorf("%s: line %d %q rejected: %v", name, i, lines[i], err)
		}
	}
}

func TestSessionRejects(t *testing.T) {
	for name, lines := range map[string][]string{
		"no HELLO":               {"TALLY 0 a=0"},
		"no TALLY after HELLO":   {"HELLO a", "OK 1"},
		"bad line":               {"HELLO a", "TALLY 0 a=0", "OK one"},
		"other options":          {"HELLO a,b", "TALLY 0 b=0 a=0"},
		"second HELLO":           {"HELLO a", "TALLY 0 a=0", "HELLO a"},
		"tally went back":        {"HELLO a", "TALLY 0 a=0", "TALLY 2 a=2", "TALLY 1 a=1"},
		"pushed twice":           {"HELLO a", "TALLY 0 a=0", "TALLY 1 a=1", "TALLY 1 a=1"},
		"more repeats than asks": {"HELLO a", "TALLY 0 a=0", "> TALLY\n", "TALLY 0 a=0", "TALLY 0 a=0"},
		"a long line is no ask":  {"HELLO a", "TALLY 0 a=0", "> " + strings.Repeat("x", MaxLine), "> TALLY\n", "TALLY 0 a=0"},
		"OK went back":           {"HELLO a", "TALLY 0 a=0", "OK 2", "OK 1"},
		"OK twice":               {"HELLO a", "TALLY 0 a=0", "OK 2", "OK 2"},
		"line after BYE":         {"HELLO a", "TALLY 0 a=0", "BYE", "TALLY 0 a=0"},
		"line after refusal":     {"ERR busy", "HELLO a"},
		"line after too long":    {"HELLO a", "TALLY 0 a=0", "ERR line-too-long", "OK 1"},
		"CR inside":              {"HELLO a", "TALLY 0 a=0", "ERR bad-request no\r\r\n"},
	} {
		var s Session
		i, err := converse(&s, lines)
		if !errors.Is(err, ErrViolation) || i != len(lines)-1 {
			t.Errorf("%s: line %d rejected (%v), want the last, %q, rejected", name, i, err, lines[len(lines)-1])
		}
	}
}

func TestSessionState(t *testing.T) {
	var s Session
	if _, ok := s.LastTally(); ok || s.Options() != nil || s.LastOK() != 0 {
		t.Fatal("a new session has state")
	}
	_, _ = converse(&s, []string{"HELLO a,b", "TALLY 0 a=0 b=0", "OK 1", "TALLY 2 a=1 b=1", "TALLY 1 a=1 b=0"})
	if m, ok := s.LastTally(); !ok || m.Seq != 2 || s.LastOK() != 1 || strings.Join(s.Options(), ",") != "a,b" {
		t.Fatalf("tally %v %v, OK %d, options %q: want TALLY 2 (not the stale 1), OK 1, a,b", m, ok, s.LastOK(), s.Options())
	}
	m, err := s.Received("TALLY 0 a=0 b=0")
	if m.Kind != MsgTally || m.Seq != 0 || !errors.Is(err, ErrViolation) {
		t.Fatalf("a stale TALLY: got %+v, %v; want it parsed and an ErrViolation", m, err)
	}
}
