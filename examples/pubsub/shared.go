package pubsub

import (
	"context"
	"net"
	"strings"
	"sync"

	"github.com/stallproof/stallproof/internal/broker"
)

// serveConns serves each connection accepted on ln (broker.Accept) with
// serve, in a goroutine of its own, until ctx ends or Accept fails for
// good; then it ends the context it gave serve, which must make serve
// return, and returns once every serve has.
func serveConns(ctx context.Context, ln net.Listener, serve func(ctx context.Context, conn net.Conn)) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	err := broker.Accept(ctx, ln, func(conn net.Conn) {
		wg.Go(func() { serve(ctx, conn) })
	})
	cancel()
	wg.Wait()
	return err
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
