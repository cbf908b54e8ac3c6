package pubsub

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"time"

	"github.com/stallproof/stallproof/internal/broker"
)

// Serve runs the pub/sub server on ln until ctx ends, then closes every
// client and returns once all its goroutines have ended. It returns an
// error only if Accept fails for good.
func Serve(ctx context.Context, ln net.Listener) error {
	s := &server{topics: map[string]map[*client]struct{}{}}
	return broker.ServeConns(ctx, ln, s.serve)
}

type server struct {
	mu     sync.Mutex
	topics map[string]map[*client]struct{} // topic → its subscribers
}

// client is one connection: a reader goroutine, and a writer goroutine
// that alone writes to conn what the others append to pending.
type client struct {
	conn   net.Conn
	topics []string // guarded by server.mu

	pmu     sync.Mutex
	room    *sync.Cond // signalled when the writer takes pending
	pending []byte     // lines waiting for the writer, at most MaxPending bytes
	wake    chan struct{}
	gone    chan struct{} // closed by close
	once    sync.Once
	closing bool // the writer closes c once pending is written
}

// serve runs conn's reader here and its writer in a goroutine of its own,
// until conn fails or ctx ends.
func (s *server) serve(ctx context.Context, conn net.Conn) {
	c := &client{conn: conn, wake: make(chan struct{}, 1), gone: make(chan struct{})}
	c.room = sync.NewCond(&c.pmu)
	stop := context.AfterFunc(ctx, c.close)
	defer stop()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		c.write()
	}()
	s.read(c)
	<-wrote
}

// reply queues the answer to c's own request, waiting while c's pending
// lines fill MaxPending: a client that does not read its replies stops
// being read, and TCP pushes back on it.
func (c *client) reply(line string) {
	c.pmu.Lock()
	for len(c.pending) > 0 && len(c.pending)+len(line)+1 > MaxPending && !c.isGone() {
		c.room.Wait()
	}
	c.pending = append(append(c.pending, line...), '\n')
	c.pmu.Unlock()
	c.signal()
}

// push queues a published line for c without ever blocking; a client
// whose pending lines would pass MaxPending is a slow consumer, and is
// closed.
func (c *client) push(line string) {
	c.pmu.Lock()
	full := len(c.pending)+len(line)+1 > MaxPending
	if !full {
		c.pending = append(append(c.pending, line...), '\n')
	}
	c.pmu.Unlock()
	if full {
		c.close()
		return
	}
	c.signal()
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *client) isGone() bool {
	select {
	case <-c.gone:
		return true
	default:
		return false
	}
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.gone)
		c.conn.Close()
		c.pmu.Lock()
		c.room.Broadcast()
		c.pmu.Unlock()
	})
}

func (s *server) read(c *client) {
	defer s.drop(c)
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(make([]byte, 0, 256), MaxLine)
	for sc.Scan() {
		req, errLine := parse(sc.Text())
		switch {
		case errLine != "":
			c.reply(errLine)
		case req.verb == "PING":
			c.reply("PONG")
		case req.verb == "SUB":
			s.mu.Lock()
			subs := s.topics[req.topic]
			if subs == nil {
				subs = map[*client]struct{}{}
				s.topics[req.topic] = subs
			}
			if _, ok := subs[c]; !ok {
				subs[c] = struct{}{}
				c.topics = append(c.topics, req.topic)
			}
			s.mu.Unlock()
			c.reply("OK")
		case req.verb == "PUB":
			line := "MSG " + req.topic + " " + req.msg
			s.mu.Lock()
			for sub := range s.topics[req.topic] {
				sub.push(line) // never blocks
			}
			s.mu.Unlock()
			c.reply("OK")
		}
	}
	if sc.Err() == bufio.ErrTooLong {
		c.reply("ERR line too long")
		discardUnread(c.conn)
		c.pmu.Lock()
		c.closing = true
		c.pmu.Unlock()
		c.signal()
		<-c.gone // the writer closes c once the ERR is written
	}
}

// discardUnread reads and discards what the client has already sent
// (the rest of a line too long), for discardFor at most, so that the close
// that follows is a FIN. Closing a socket with unread input makes the
// kernel reset the connection, and a reset can destroy the error line in
// the client's receive buffer before the client reads it.
func discardUnread(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(discardFor))
	_, _ = io.Copy(io.Discard, conn)
}

// discardFor bounds discardUnread: a client that keeps sending is reset.
const discardFor = 50 * time.Millisecond

// drop forgets c and closes it.
func (s *server) drop(c *client) {
	s.mu.Lock()
	for _, t := range c.topics {
		delete(s.topics[t], c)
		if len(s.topics[t]) == 0 {
			delete(s.topics, t)
		}
	}
	s.mu.Unlock()
	c.close()
}

// write takes what is pending and writes it, with no lock held, until c
// is closed or a write fails or blocks for WriteTimeout.
func (c *client) write() {
	defer c.close()
	var buf []byte
	for {
		select {
		case <-c.gone:
			return
		case <-c.wake:
		}
		c.pmu.Lock()
		buf, c.pending = c.pending, buf[:0]
		closing := c.closing
		c.room.Broadcast()
		c.pmu.Unlock()
		if len(buf) > 0 {
			c.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
			if _, err := c.conn.Write(buf); err != nil {
				return
			}
		}
		if closing {
			return
		}
	}
}
