package pubsub

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"
)

// acceptLoop accepts connections on ln and hands each to handle, until ctx
// ends (then it returns nil) or Accept fails for good. A temporary error
// (EMFILE, ENFILE) is retried after a pause that doubles from 5 ms to 1 s,
// as net/http does.
func acceptLoop(ctx context.Context, ln net.Listener, handle func(net.Conn)) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err == nil {
			delay = 0
			handle(conn)
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		var te interface{ Temporary() bool }
		if !errors.As(err, &te) || !te.Temporary() {
			return err
		}
		delay = min(max(2*delay, 5*time.Millisecond), time.Second)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil
		}
	}
}

// request is one parsed line from a client.
type request struct {
	verb, topic, msg string
}

// parse splits a line into its verb and arguments, or returns the ERR
// line that answers it.
func parse(line string) (request, string) {
	verb, rest, _ := strings.Cut(line, " ")
	switch verb {
	case "PING":
		if rest == "" {
			return request{verb: verb}, ""
		}
	case "SUB":
		if rest != "" && !strings.Contains(rest, " ") {
			return request{verb: verb, topic: rest}, ""
		}
		return request{}, "ERR usage: SUB <topic>"
	case "PUB":
		topic, msg, ok := strings.Cut(rest, " ")
		if ok && topic != "" {
			return request{verb: verb, topic: topic, msg: msg}, ""
		}
		return request{}, "ERR usage: PUB <topic> <msg>"
	}
	return request{}, "ERR unknown command"
}
