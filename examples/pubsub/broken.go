package pubsub

import (
	"bufio"
	"context"
	"net"
	"sync"

	"github.com/stallproof/stallproof/internal/broker"
)

// ServeBroken runs the pub/sub server written the common wrong way: a
// publish writes its MSG line to every subscriber, and its OK to the
// publisher, while it holds the lock that guards the subscriber lists.
// While every client reads, it works and passes the race detector. Once one
// subscriber stops reading and its buffers fill, a Write blocks with the
// lock held, and every client that publishes, subscribes or connects after
// that waits forever. It is here to be caught; use [Serve].
func ServeBroken(ctx context.Context, ln net.Listener) error {
	s := &brokenServer{topics: map[string]map[net.Conn]struct{}{}}
	return broker.ServeConns(ctx, ln, s.serve)
}

type brokenServer struct {
	mu     sync.Mutex
	topics map[string]map[net.Conn]struct{}
}

func (s *brokenServer) serve(ctx context.Context, conn net.Conn) {
	// Closing the connection once ctx ends, without the lock, unblocks a
	// Write stuck on a stalled subscriber, so that shutdown at least works.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var subscribed []string
	defer func() {
		s.mu.Lock()
		for _, t := range subscribed {
			delete(s.topics[t], conn)
		}
		s.mu.Unlock()
		conn.Close()
	}()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 256), MaxLine)
	for sc.Scan() {
		req, errLine := parse(sc.Text())
		s.mu.Lock()
		switch {
		case errLine != "":
			conn.Write([]byte(errLine + "\n"))
		case req.verb == "PING":
			conn.Write([]byte("PONG\n"))
		case req.verb == "SUB":
			if s.topics[req.topic] == nil {
				s.topics[req.topic] = map[net.Conn]struct{}{}
			}
			s.topics[req.topic][conn] = struct{}{}
			subscribed = append(subscribed, req.topic)
			conn.Write([]byte("OK\n"))
		case req.verb == "PUB":
			line := []byte("MSG " + req.topic + " " + req.msg + "\n")
			for sub := range s.topics[req.topic] {
				sub.Write(line) // under the lock: the bug
			}
			conn.Write([]byte("OK\n"))
		}
		s.mu.Unlock()
	}
	if sc.Err() == bufio.ErrTooLong {
		conn.Write([]byte("ERR line too long\n"))
		discardUnread(conn)
	}
}
