package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// MsgKind is the kind of a line sent by a server; [RequestKind] is the
// kind of a line sent by a client.
type MsgKind uint8

// Server line kinds.
const (
	MsgHello MsgKind = iota + 1 // HELLO a,b,c
	MsgOK                       // OK <seq>
	MsgTally                    // TALLY <seq> a=n ...
	MsgErr                      // ERR <code> [text]
	MsgBye                      // BYE
)

var msgVerbs = [...]string{MsgHello: "HELLO", MsgOK: "OK", MsgTally: "TALLY", MsgErr: "ERR", MsgBye: "BYE"}

// String returns the line's verb: "HELLO", "OK", "TALLY", "ERR" or "BYE".
func (k MsgKind) String() string { return verb(msgVerbs[:], int(k), "MsgKind") }

// verb returns verbs[k], or type(k) if there is none.
func verb(verbs []string, k int, typ string) string {
	if k < len(verbs) && verbs[k] != "" {
		return verbs[k]
	}
	return typ + "(" + strconv.Itoa(k) + ")"
}

// Msg is one parsed server line.
type Msg struct {
	Kind    MsgKind
	Options []string // MsgHello: the options, in order
	Seq     uint64   // MsgOK, MsgTally
	Counts  []uint64 // MsgTally: one count per option, in HELLO order
	Code    string   // MsgErr
	Text    string   // MsgErr: free text, may be empty
}

// ParseMsg parses one line sent by a server, with or without its terminator.
// For TALLY lines, opts must be the options from the server's HELLO: ParseMsg
// checks that the line names exactly those options, in that order, and that
// the counts sum to the seq. A nil opts accepts any option names (the counts
// still must sum to seq) and leaves them unchecked.
func ParseMsg(line string, opts []string) (Msg, error) {
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	verb, rest, _ := strings.Cut(line, " ")
	switch verb {
	case "HELLO":
		list := strings.Split(rest, ",")
		if err := ValidateOptions(list); err != nil {
			return Msg{}, fmt.Errorf("bad HELLO %q: %v", line, err)
		}
		return Msg{Kind: MsgHello, Options: list}, nil
	case "OK":
		seq, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || seq == 0 {
			return Msg{}, fmt.Errorf("bad OK %q: want a positive seq", line)
		}
		return Msg{Kind: MsgOK, Seq: seq}, nil
	case "TALLY":
		return parseTally(line, rest, opts)
	case "ERR":
		code, text, _ := strings.Cut(rest, " ")
		if code == "" {
			return Msg{}, fmt.Errorf("bad ERR %q: no code", line)
		}
		return Msg{Kind: MsgErr, Code: code, Text: text}, nil
	case "BYE":
		if rest != "" || strings.Contains(line, " ") {
			return Msg{}, fmt.Errorf("bad BYE %q", line)
		}
		return Msg{Kind: MsgBye}, nil
	}
	return Msg{}, fmt.Errorf("unknown server line %q", line)
}

func parseTally(line, rest string, opts []string) (Msg, error) {
	fields := strings.Split(rest, " ")
	seq, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return Msg{}, fmt.Errorf("bad TALLY %q: seq: %v", line, err)
	}
	pairs := fields[1:]
	if opts != nil && len(pairs) != len(opts) {
		return Msg{}, fmt.Errorf("bad TALLY %q: %d counts for %d options", line, len(pairs), len(opts))
	}
	m := Msg{Kind: MsgTally, Seq: seq, Counts: make([]uint64, len(pairs))}
	var sum uint64
	for i, p := range pairs {
		name, num, ok := strings.Cut(p, "=")
		if !ok || (opts != nil && name != opts[i]) || (opts == nil && !ValidOption(name)) {
			return Msg{}, fmt.Errorf("bad TALLY %q: field %d %q", line, i+1, p)
		}
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return Msg{}, fmt.Errorf("bad TALLY %q: count %q: %v", line, p, err)
		}
		m.Counts[i] = n
		if sum+n < sum {
			return Msg{}, fmt.Errorf("bad TALLY %q: counts overflow", line)
		}
		sum += n
	}
	if sum != seq {
		return Msg{}, fmt.Errorf("bad TALLY %q: counts sum to %d, not seq %d", line, sum, seq)
	}
	return m, nil
}
