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

// Msg is one parsed server line. String formats it back as the line,
// without its terminator.
type Msg struct {
	Kind    MsgKind
	Options []string // MsgHello, MsgTally: the option names, in order
	Seq     uint64   // MsgOK, MsgTally
	Counts  []uint64 // MsgTally: one count per option, in HELLO order
	Code    string   // MsgErr
	Text    string   // MsgErr: free text, may be empty
}

// ParseMsg parses one line sent by a server, with or without its
// terminator ("\n" or "\r\n"); a CR or LF anywhere else makes the line bad.
// For TALLY lines, opts must be the options from the server's HELLO: ParseMsg
// checks that the line names exactly those options, in that order, and that
// the counts sum to the seq, and Msg.Options is opts. A nil opts accepts any
// legal option names (the counts still must sum to seq) and Msg.Options
// holds them.
func ParseMsg(line string, opts []string) (Msg, error) {
	line = trimEOL(line)
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
		if strings.ContainsAny(rest, "\r\n") {
			return Msg{}, fmt.Errorf("bad ERR %q: a CR or LF inside the line", line)
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

// trimEOL is TrimEOL for a string.
func trimEOL(line string) string {
	if l, ok := strings.CutSuffix(line, "\n"); ok {
		return strings.TrimSuffix(l, "\r")
	}
	return line
}

// KindOf returns the kind of server line that line claims to be by its
// first word, with or without its terminator, or 0 if none: it looks at
// nothing else (ParseMsg checks the whole line) and allocates nothing, for
// a client that only counts what it receives.
func KindOf[S ~string | ~[]byte](line S) MsgKind {
	n := len(line)
	for i := 0; i < len(line); i++ {
		if c := line[i]; c == ' ' || c == '\r' || c == '\n' {
			n = i
			break
		}
	}
	switch string(line[:n]) {
	case "TALLY":
		return MsgTally
	case "OK":
		return MsgOK
	case "ERR":
		return MsgErr
	case "BYE":
		return MsgBye
	case "HELLO":
		return MsgHello
	}
	return 0
}

// String formats m as the line a server sends, without the terminator:
// "OK 7", "TALLY 3 red=1 green=2", "ERR busy too many clients". A TALLY
// without one name per count shows its counts without names.
func (m Msg) String() string {
	var b []byte
	switch m.Kind {
	case MsgHello:
		b = AppendHello(nil, m.Options)
	case MsgOK:
		b = AppendOK(nil, m.Seq)
	case MsgTally:
		if len(m.Options) == len(m.Counts) {
			b = AppendTally(nil, m.Seq, m.Options, m.Counts)
			break
		}
		b = strconv.AppendUint(append(b, "TALLY "...), m.Seq, 10)
		for _, n := range m.Counts {
			b = strconv.AppendUint(append(b, ' '), n, 10)
		}
	case MsgErr:
		b = AppendErr(nil, m.Code, m.Text)
	case MsgBye:
		b = AppendBye(nil)
	default:
		return m.Kind.String()
	}
	return string(TrimEOL(b))
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
	m := Msg{Kind: MsgTally, Options: opts, Seq: seq, Counts: make([]uint64, len(pairs))}
	if opts == nil {
		m.Options = make([]string, len(pairs))
	}
	var sum uint64
	for i, p := range pairs {
		name, num, ok := strings.Cut(p, "=")
		if !ok || (opts != nil && name != opts[i]) || (opts == nil && !ValidOption(name)) {
			return Msg{}, fmt.Errorf("bad TALLY %q: field %d %q", line, i+1, p)
		}
		if opts == nil {
			m.Options[i] = name
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
