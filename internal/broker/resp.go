package broker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// ServeRESP runs a Redis-protocol pub/sub broker on ln until ctx ends:
// SUBSCRIBE, PUBLISH, PING and AUTH (any password), in RESP2.
func ServeRESP(ctx context.Context, ln net.Listener) error { return serve(ctx, ln, false, handleRESP) }

// ServeRESPBroken is ServeRESP with the bug: it writes to subscribers
// under its lock.
func ServeRESPBroken(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, true, handleRESP)
}

var errProtocol = errors.New("protocol error")

func handleRESP(c *conn, r *bufio.Reader) error {
	for {
		args, err := readRESPCommand(r)
		if errors.Is(err, errProtocol) {
			c.reply([]byte("-ERR Protocol error\r\n"))
		}
		if err != nil {
			return err
		}
		if len(args) == 0 {
			continue
		}
		switch cmd := strings.ToUpper(args[0]); {
		case cmd == "PING":
			c.reply([]byte("+PONG\r\n"))
		case cmd == "AUTH" && len(args) >= 2:
			c.reply([]byte("+OK\r\n"))
		case cmd == "SUBSCRIBE" && len(args) >= 2:
			for i, ch := range args[1:] {
				prefix := fmt.Appendf(nil, "*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n", len(ch), ch)
				c.subscribe(ch, func(p []byte) []byte {
					return fmt.Appendf(append([]byte(nil), prefix...), "$%d\r\n%s\r\n", len(p), p)
				})
				c.reply(fmt.Appendf(nil, "*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:%d\r\n", len(ch), ch, i+1))
			}
		case cmd == "PUBLISH" && len(args) == 3:
			n := c.publish(args[1], []byte(args[2]))
			c.reply(fmt.Appendf(nil, ":%d\r\n", n))
		default:
			c.reply(fmt.Appendf(nil, "-ERR unknown command or wrong arguments '%s'\r\n", cmd))
		}
	}
}

// readRESPCommand reads one command: an array of bulk strings, or an
// inline command (words on a line).
func readRESPCommand(r *bufio.Reader) ([]string, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 || line[0] != '*' {
		return strings.Fields(line), nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > 1024 {
		return nil, errProtocol
	}
	args := make([]string, 0, n)
	for range n {
		head, err := readLine(r)
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimPrefix(head, "$"))
		if err != nil || head[0] != '$' || size < 0 || size > MaxMessage {
			return nil, errProtocol
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args = append(args, string(b[:size]))
	}
	return args, nil
}

// readLine reads a line of at most MaxMessage bytes, without its "\r\n".
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		part, more, err := r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, part...)
		if len(b) > MaxMessage {
			return "", errProtocol
		}
		if !more {
			return string(b), nil
		}
	}
}
