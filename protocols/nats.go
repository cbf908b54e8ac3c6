package protocols

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/stallproof/stallproof/properties"
)

// NATS describes the NATS client protocol with two roles:
//
//   - "publisher" sends CONNECT and PING as its hello, and is greeted once
//     the server's INFO and then PONG arrive; each request is
//     PUB <subject> <size> with its payload, followed by PING;
//   - "subscriber" sends CONNECT, SUB <subject> 1 and PING, and is greeted
//     by the PONG: once it arrives, the server has the subscription; each
//     MSG (or HMSG) is a push.
//
// NATS acknowledges no publish (CONNECT sets verbose false, so no +OK
// either): the PING after each PUB is what gets a reply, and its PONG
// answers the request. A server handles a connection's protocol messages
// in order, so the PONG comes once the PUB is processed. An "-ERR" tells
// a subscriber it was dropped (a slow consumer); on a publisher it is
// ignored, since the PONG still follows whenever the connection survives.
// Server PINGs and INFO updates are ignored. Messages are framed by
// [SplitNATS]: a MSG with its payload is one message.
func NATS(opts ...Option) properties.Protocol {
	c := newConfig(opts)
	connect := func(id int) []byte {
		fields := map[string]any{"verbose": false, "pedantic": false, "name": fmt.Sprintf("stallproof-c%d", id), "lang": "go", "version": "stallproof", "protocol": 1}
		if c.user != "" {
			fields["user"] = c.user
		}
		if c.password != "" {
			fields["pass"] = c.password
		}
		b, _ := json.Marshal(fields) // a map of strings, bools and ints always marshals
		return fmt.Appendf(nil, "CONNECT %s\r\n", b)
	}
	return properties.Protocol{
		Name: c.name("NATS"),
		Roles: []properties.Role{
			{
				Name:  "publisher",
				Hello: func(id int) []byte { return append(connect(id), "PING\r\n"...) },
				Request: func(id, n int) []byte {
					p := c.payloadFor(id, n)
					return fmt.Appendf(nil, "PUB %s %d\r\n%s\r\nPING\r\n", c.channel, len(p), p)
				},
				Publishes: true,
			},
			{
				Name:       "subscriber",
				Hello:      func(id int) []byte { return fmt.Appendf(connect(id), "SUB %s 1\r\nPING\r\n", c.channel) },
				Subscribes: true,
			},
		},
		Split:   SplitNATS,
		Greeted: func(_ string, _ int, msg []byte) bool { return string(msg) == "PONG" },
		Classify: func(role string, msg []byte) properties.Class {
			switch {
			case bytes.HasPrefix(msg, []byte("MSG ")), bytes.HasPrefix(msg, []byte("HMSG ")):
				return properties.Push
			case string(msg) == "PONG" && role == "publisher":
				return properties.Reply
			case bytes.HasPrefix(msg, []byte("-ERR")) && role == "subscriber":
				return properties.ErrorReply
			}
			return properties.Ignore // PING, INFO, +OK, a publisher's -ERR
		},
	}
}

// SplitNATS is a bufio.SplitFunc that frames what a NATS server sends:
// each token is a control line without its "\r\n" (INFO, PING, PONG, +OK,
// -ERR), or a whole MSG or HMSG: its control line, "\r\n", the payload
// (headers included for HMSG), without the payload's final "\r\n". It
// returns an error for a MSG whose size is not a number, and for a message
// cut short by EOF.
func SplitNATS(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		if atEOF && len(data) > 0 {
			return 0, nil, fmt.Errorf("protocols: NATS message %.40q cut short by EOF", data)
		}
		return 0, nil, nil
	}
	line := bytes.TrimSuffix(data[:i], []byte("\r"))
	if !bytes.HasPrefix(line, []byte("MSG ")) && !bytes.HasPrefix(line, []byte("HMSG ")) {
		return i + 1, line, nil
	}
	f := bytes.Fields(line)
	size, err := strconv.Atoi(string(f[len(f)-1]))
	if err != nil || size < 0 || len(f) < 4 {
		return 0, nil, fmt.Errorf("protocols: NATS %q: bad size", line)
	}
	end := i + 1 + size
	if len(data) < end+2 {
		if atEOF {
			return 0, nil, fmt.Errorf("protocols: NATS message %.40q cut short by EOF", data)
		}
		return 0, nil, nil
	}
	if data[end] != '\r' || data[end+1] != '\n' {
		return 0, nil, fmt.Errorf("protocols: NATS %q: payload of %d bytes not followed by \\r\\n", line, size)
	}
	return end + 2, data[:end], nil
}
