package broker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// ServeNATS runs a NATS broker on ln until ctx ends: INFO on connect,
// CONNECT (not verbose), SUB, PUB, PING; no wildcards, no headers.
func ServeNATS(ctx context.Context, ln net.Listener) error { return serve(ctx, ln, false, handleNATS) }

// ServeNATSBroken is ServeNATS with the bug: it writes to subscribers
// under its lock.
func ServeNATSBroken(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, true, handleNATS)
}

func handleNATS(c *conn, r *bufio.Reader) error {
	c.reply([]byte(`INFO {"server_id":"stallproof-broker","version":"0.0.0","proto":1,"max_payload":65536}` + "\r\n"))
	for {
		line, err := readLine(r)
		if err == errProtocol {
			c.reply([]byte("-ERR 'Maximum Control Line Exceeded'\r\n"))
		}
		if err != nil {
			return err
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch verb := strings.ToUpper(f[0]); {
		case verb == "CONNECT", verb == "PONG":
		case verb == "PING":
			c.reply([]byte("PONG\r\n"))
		case verb == "SUB" && (len(f) == 3 || len(f) == 4):
			subject, sid := f[1], f[len(f)-1]
			c.subscribe(subject, func(p []byte) []byte {
				return fmt.Appendf(nil, "MSG %s %s %d\r\n%s\r\n", subject, sid, len(p), p)
			})
		case verb == "PUB" && (len(f) == 3 || len(f) == 4):
			size, err := strconv.Atoi(f[len(f)-1])
			if err != nil || size < 0 || size > MaxMessage {
				c.reply([]byte("-ERR 'Maximum Payload Violation'\r\n"))
				return errProtocol
			}
			b := make([]byte, size+2)
			if _, err := io.ReadFull(r, b); err != nil {
				return err
			}
			c.publish(f[1], b[:size])
		default:
			c.reply([]byte("-ERR 'Unknown Protocol Operation'\r\n"))
			return errProtocol
		}
	}
}
