package protocols

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/stallproof/stallproof/properties"
)

// RESP describes Redis pub/sub (RESP2, and RESP3's push type when a server
// sends it) with two roles:
//
//   - "publisher" sends PUBLISH <channel> <payload> as a RESP array; the
//     integer reply (how many subscribers received it) answers it;
//   - "subscriber" sends SUBSCRIBE <channel> as its hello; the
//     subscription confirmation is its greeting, and each "message" (or
//     "pmessage") array is a push.
//
// With [Auth], every client first sends AUTH and is greeted by its +OK. An
// error reply ("-ERR ...") answers a publisher's request as an error, and
// tells a subscriber it was dropped. Messages are framed by [SplitRESP],
// one top-level RESP value each.
//
// A publish is acknowledged by the server, so RESP needs no extra request
// to get one reply per request.
func RESP(opts ...Option) properties.Protocol {
	c := newConfig(opts)
	auth := []byte(nil)
	if c.password != "" {
		if c.user != "" {
			auth = respArray("AUTH", c.user, c.password)
		} else {
			auth = respArray("AUTH", c.password)
		}
	}
	subscribed := respArrayPrefix("subscribe")
	return properties.Protocol{
		Name: c.name("RESP"),
		Roles: []properties.Role{
			{
				Name:       "publisher",
				Hello:      func(int) []byte { return auth },
				Request:    func(id, n int) []byte { return respArray("PUBLISH", c.channel, string(c.payloadFor(id, n))) },
				Publishes:  true,
				NoGreeting: auth == nil,
			},
			{
				Name:       "subscriber",
				Hello:      func(int) []byte { return append(append([]byte(nil), auth...), respArray("SUBSCRIBE", c.channel)...) },
				Subscribes: true,
			},
		},
		Split: SplitRESP,
		Greeted: func(role string, _ int, msg []byte) bool {
			if role == "publisher" {
				return bytes.HasPrefix(msg, []byte("+OK"))
			}
			return bytes.HasPrefix(msg, subscribed)
		},
		Classify: func(role string, msg []byte) properties.Class {
			switch {
			case len(msg) > 0 && msg[0] == '-':
				return properties.ErrorReply
			case role == "publisher":
				return properties.Reply
			case isRESPMessage(msg):
				return properties.Push
			}
			return properties.Ignore // a PONG, a confirmation
		},
	}
}

// isRESPMessage reports whether msg is a published message pushed to a
// subscriber: a "message" or "pmessage" array (RESP2) or push (RESP3).
func isRESPMessage(msg []byte) bool {
	for _, kind := range []string{"message", "pmessage"} {
		p := respArrayPrefix(kind)
		if bytes.HasPrefix(msg, p) || (len(msg) > 0 && msg[0] == '>' && bytes.HasPrefix(msg[1:], p[1:])) {
			return true
		}
	}
	return false
}

// respArrayPrefix is how a RESP2 pub/sub array of kind begins, up to its
// second element: "*3\r\n$7\r\nmessage\r\n" (pmessage has four elements).
func respArrayPrefix(kind string) []byte {
	n := 3
	if kind == "pmessage" {
		n = 4
	}
	return fmt.Appendf(nil, "*%d\r\n$%d\r\n%s\r\n", n, len(kind), kind)
}

// respArray encodes a command as a RESP array of bulk strings.
func respArray(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// errRESP is what SplitRESP returns for bytes that are not RESP.
var errRESP = errors.New("protocols: not RESP")

// SplitRESP is a bufio.SplitFunc that frames RESP2 and RESP3 values: each
// token is one whole top-level value, its type byte and every "\r\n"
// included (a pub/sub message array is one token, not five lines). It
// returns an error for bytes that are not RESP, and for a value cut short
// by EOF.
func SplitRESP(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	n, err := respValue(data, 0)
	switch {
	case err != nil:
		return 0, nil, err
	case n > 0:
		return n, data[:n], nil
	case atEOF:
		return 0, nil, fmt.Errorf("protocols: RESP value %.40q cut short by EOF", data)
	}
	return 0, nil, nil
}

// respValue returns the length of the RESP value at the start of data, 0
// if data holds only part of it, or an error.
func respValue(data []byte, depth int) (int, error) {
	if len(data) == 0 {
		return 0, nil
	}
	if depth > 64 {
		return 0, fmt.Errorf("%w: values nested deeper than 64", errRESP)
	}
	end := bytes.Index(data, []byte("\r\n"))
	if end < 0 {
		if len(data) > 1<<16 {
			return 0, fmt.Errorf("%w: a header line longer than 64 KiB", errRESP)
		}
		return 0, nil
	}
	if end == 0 {
		return 0, fmt.Errorf("%w: a line with no type byte", errRESP)
	}
	line := data[1:end]
	head := end + 2
	switch data[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return head, nil // simple string, error, integer, null, boolean, double, big number
	case '$', '!', '=': // bulk string, bulk error, verbatim string
		size, err := respLen(line)
		if err != nil || size < 0 {
			return head, err // $-1: the null bulk string
		}
		if len(data) < head+size+2 {
			return 0, nil
		}
		if data[head+size] != '\r' || data[head+size+1] != '\n' {
			return 0, fmt.Errorf("%w: a bulk string of %d bytes not followed by \\r\\n", errRESP, size)
		}
		return head + size + 2, nil
	case '*', '~', '>', '%', '|': // array, set, push; map and attribute hold pairs
		count, err := respLen(line)
		if err != nil || count < 0 {
			return head, err // *-1: the null array
		}
		if data[0] == '%' || data[0] == '|' {
			count *= 2
		}
		at := head
		for range count {
			n, err := respValue(data[at:], depth+1)
			if err != nil || n == 0 {
				return 0, err
			}
			at += n
		}
		if data[0] == '|' { // an attribute precedes the value it describes
			n, err := respValue(data[at:], depth+1)
			if err != nil || n == 0 {
				return 0, err
			}
			at += n
		}
		return at, nil
	}
	return 0, fmt.Errorf("%w: unknown type byte %q", errRESP, data[0])
}

// respLen parses a length; -1 is RESP2's null.
func respLen(b []byte) (int, error) {
	n, err := strconv.Atoi(string(b))
	if err != nil || n < -1 || n > 512<<20 {
		return 0, fmt.Errorf("%w: bad length %q", errRESP, b)
	}
	return n, nil
}
