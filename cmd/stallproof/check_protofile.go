package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/protocols"
)

// A protocol file describes a protocol for check -protocol FILE; the
// format is documented in docs/protocol-file.md. Each line is a directive
// and its arguments: words, or Go-quoted strings for bytes ("SUB news\n",
// "\x30"). A # starts a comment.

// fileRole is a role block of a protocol file.
type fileRole struct {
	role     properties.Role
	hello    string
	request  string
	greeting *string // the role's own greeting prefix, if it has one
}

// fileRule classifies a server message that starts with prefix.
type fileRule struct {
	prefix []byte
	class  properties.Class
}

// loadProtocolFile reads a protocol described in a file.
func loadProtocolFile(path string) (properties.Protocol, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return properties.Protocol{}, fmt.Errorf("want v1, resp, nats, mqtt, lines or a protocol file: %v", err)
	}
	p, err := parseProtocolFile(string(data))
	if err != nil {
		return properties.Protocol{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// parseProtocolFile parses a protocol file's text; an error begins with
// the line number.
func parseProtocolFile(text string) (properties.Protocol, error) {
	p := properties.Protocol{Name: "protocol file"}
	var (
		roles     []*fileRole
		rules     []fileRule
		greeting  *string
		otherwise = properties.Ignore
	)
	classes := map[string]properties.Class{"reply": properties.Reply, "push": properties.Push, "error": properties.ErrorReply, "ignore": properties.Ignore}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		args, err := fileFields(sc.Text())
		if err != nil {
			return p, fmt.Errorf("line %d: %v", n, err)
		}
		if len(args) == 0 {
			continue
		}
		var cur *fileRole
		if len(roles) > 0 {
			cur = roles[len(roles)-1]
		}
		want := func(k int) error {
			if len(args) != k+1 {
				return fmt.Errorf("line %d: %s takes %d argument(s), got %d", n, args[0], k, len(args)-1)
			}
			return nil
		}
		inRole := func() error {
			if cur == nil {
				return fmt.Errorf("line %d: %s belongs in a role block (after \"role NAME\")", n, args[0])
			}
			return nil
		}
		switch d := args[0]; d {
		case "name":
			if err := want(1); err != nil {
				return p, err
			}
			p.Name = args[1]
		case "framing":
			if err := want(1); err != nil {
				return p, err
			}
			split, ok := fileFramings[args[1]]
			if !ok {
				return p, fmt.Errorf("line %d: framing %q: want lines, crlf, resp, mqtt or length-prefixed", n, args[1])
			}
			p.Split = split
		case "delivery":
			if err := want(1); err != nil {
				return p, err
			}
			switch args[1] {
			case "every":
				p.Delivery = properties.EveryPublish
			case "latest":
				p.Delivery = properties.Latest
			default:
				return p, fmt.Errorf("line %d: delivery %q: want every or latest", n, args[1])
			}
		case "greeting":
			if err := want(1); err != nil {
				return p, err
			}
			g := args[1]
			if cur != nil {
				cur.greeting = &g
			} else {
				greeting = &g
			}
		case "role":
			if err := want(1); err != nil {
				return p, err
			}
			roles = append(roles, &fileRole{role: properties.Role{Name: args[1]}})
		case "hello", "request":
			if err := want(1); err != nil {
				return p, err
			}
			if err := inRole(); err != nil {
				return p, err
			}
			if d == "hello" {
				cur.hello = args[1]
			} else {
				cur.request = args[1]
			}
		case "publishes", "subscribes", "no-greeting", "ungreeted": // ungreeted: its old name
			if err := want(0); err != nil {
				return p, err
			}
			if err := inRole(); err != nil {
				return p, err
			}
			switch d {
			case "publishes":
				cur.role.Publishes = true
			case "subscribes":
				cur.role.Subscribes = true
			default:
				cur.role.NoGreeting = true
			}
		case "reply", "push", "error", "ignore":
			if err := want(1); err != nil {
				return p, err
			}
			if args[1] == "" {
				return p, fmt.Errorf("line %d: %s needs a non-empty prefix", n, d)
			}
			rules = append(rules, fileRule{[]byte(args[1]), classes[d]})
		case "otherwise":
			if err := want(1); err != nil {
				return p, err
			}
			c, ok := classes[args[1]]
			if !ok {
				return p, fmt.Errorf("line %d: otherwise %q: want reply, push, error or ignore", n, args[1])
			}
			otherwise = c
		default:
			return p, fmt.Errorf("line %d: unknown directive %q", n, d)
		}
	}
	if len(roles) == 0 {
		return p, fmt.Errorf("no role: describe at least one with \"role NAME\"")
	}
	greetings := map[string][]byte{}
	for _, r := range roles {
		if h := template(r.hello); h != nil {
			r.role.Hello = func(id int) []byte { return h(id, 0) }
		}
		r.role.Request = template(r.request)
		switch {
		case r.greeting != nil:
			greetings[r.role.Name] = []byte(*r.greeting)
		case greeting != nil && !r.role.NoGreeting:
			greetings[r.role.Name] = []byte(*greeting)
		default:
			r.role.NoGreeting = true
		}
		p.Roles = append(p.Roles, r.role)
	}
	if len(greetings) > 0 {
		p.Greeted = func(role string, _ int, msg []byte) bool { return bytes.HasPrefix(msg, greetings[role]) }
	}
	p.Classify = func(_ string, msg []byte) properties.Class {
		for _, r := range rules {
			if bytes.HasPrefix(msg, r.prefix) {
				return r.class
			}
		}
		return otherwise
	}
	return p, nil
}

// template returns the bytes of s with {id} and {n} replaced (a hello's
// {n} is 0), or nil for
// an empty s.
func template(s string) func(id, n int) []byte {
	if s == "" {
		return nil
	}
	return func(id, n int) []byte {
		return []byte(strings.NewReplacer("{id}", strconv.Itoa(id), "{n}", strconv.Itoa(n)).Replace(s))
	}
}

// fileFields splits a line into words and Go-quoted strings (unquoted),
// up to a # outside quotes.
func fileFields(line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " \t")
		switch {
		case line == "" || line[0] == '#':
			return out, nil
		case line[0] == '"' || line[0] == '`':
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, fmt.Errorf("bad quoted string %s", line)
			}
			s, _ := strconv.Unquote(q)
			out = append(out, s)
			line = line[len(q):]
		default:
			i := strings.IndexAny(line, " \t")
			if i < 0 {
				i = len(line)
			}
			out = append(out, line[:i])
			line = line[i:]
		}
	}
}

// fileFramings are the framings a protocol file can name.
var fileFramings = map[string]func([]byte, bool) (int, []byte, error){
	"lines":           nil, // the suite's default: "\n", a "\r" before it dropped
	"crlf":            splitCRLF,
	"resp":            protocols.SplitRESP,
	"mqtt":            protocols.SplitMQTT,
	"length-prefixed": splitLengthPrefixed,
}

// splitCRLF frames lines that end in "\r\n" (a lone "\n" stays in the
// message), without the "\r\n".
func splitCRLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.Index(data, []byte("\r\n")); i >= 0 {
		return i + 2, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return 0, nil, fmt.Errorf("server message %q cut short by EOF", data)
	}
	return 0, nil, nil
}

// splitLengthPrefixed frames messages that each begin with their length,
// 4 bytes big-endian; the token is the message without its length.
func splitLengthPrefixed(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) >= 4 {
		size := binary.BigEndian.Uint32(data)
		if size > 64<<20 {
			return 0, nil, fmt.Errorf("a length prefix of %d bytes", size)
		}
		if end := 4 + int(size); len(data) >= end {
			return end, data[4:end], nil
		}
	}
	if atEOF && len(data) > 0 {
		return 0, nil, fmt.Errorf("server message % .16x cut short by EOF", data)
	}
	return 0, nil, nil
}
