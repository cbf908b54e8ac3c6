package broker

import (
	"bufio"
	"context"
	"net"
	"strings"
)

// ServeLines runs a line pub/sub broker on ln until ctx ends: SUB <topic>
// and PUB <topic> <payload>, each answered by OK; subscribers receive
// MSG <topic> <payload>; anything else gets ERR <reason>.
func ServeLines(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, false, handleLines)
}

// ServeLinesBroken is ServeLines with the bug: it writes to subscribers
// under its lock.
func ServeLinesBroken(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, true, handleLines)
}

func handleLines(c *conn, r *bufio.Reader) error {
	for {
		line, err := readLine(r)
		if err == errProtocol {
			c.reply([]byte("ERR line too long\n"))
		}
		if err != nil {
			return err
		}
		verb, rest, _ := strings.Cut(line, " ")
		topic, payload, _ := strings.Cut(rest, " ")
		switch {
		case verb == "SUB" && topic != "":
			c.subscribe(topic, func(p []byte) []byte { return []byte("MSG " + topic + " " + string(p) + "\n") })
			c.reply([]byte("OK\n"))
		case verb == "PUB" && topic != "":
			c.publish(topic, []byte(payload))
			c.reply([]byte("OK\n"))
		default:
			c.reply([]byte("ERR unknown command\n"))
		}
	}
}
