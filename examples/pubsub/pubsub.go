package pubsub

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// Serve runs the pub/sub server on ln until ctx ends, then closes every
// client and returns once all its goroutines have ended. It returns an
// error only if Accept fails for good.
func Serve(ctx context.Context, ln net.Listener) error {
	s := &server{topics: map[string]map[*client]struct{}{}, clients: map[*client]struct{}{}}
	err := acceptLoop(ctx, ln, s.start)
	s.mu.Lock()
	for c := range s.clients {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

type server struct {
	mu      sync.Mutex
	topics  map[string]map[*client]struct{} // topic → its subscribers
	clients map[*client]struct{}
	wg      sync.WaitGroup
}

// client is one connection: a reader goroutine, and a writer goroutine
// that alone writes to conn, fed by out.
type client struct {
	conn   net.Conn
	out    chan string
	gone   chan struct{} // closed by close
	once   sync.Once
	topics []string // guarded by server.mu
}

func (s *server) start(conn net.Conn) {
	c := &client{conn: conn, out: make(chan string, QueueLen), gone: make(chan struct{})}
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(2)
	go s.read(c)
	go s.write(c)
}

// reply queues the answer to c's own request, waiting while c's queue is
// full: a client that does not read its replies stops being read.
func (c *client) reply(line string) {
	select {
	case c.out <- line:
	case <-c.gone:
	}
}

// push queues a published line for c without ever blocking; a full queue
// disconnects c.
func (c *client) push(line string) {
	select {
	case c.out <- line:
	default:
		c.close()
	}
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.gone)
		c.conn.Close()
	})
}

func (s *server) read(c *client) {
	defer s.wg.Done()
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
		c.finish()
	}
}

// finish closes c once its writer has sent what is queued, or after
// WriteTimeout.
func (c *client) finish() {
	t := time.AfterFunc(WriteTimeout, c.close)
	select {
	case c.out <- "": // the writer closes c when it reaches this
	case <-c.gone:
	}
	<-c.gone
	t.Stop()
}

// drop forgets c and closes it.
func (s *server) drop(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	for _, t := range c.topics {
		delete(s.topics[t], c)
		if len(s.topics[t]) == 0 {
			delete(s.topics, t)
		}
	}
	s.mu.Unlock()
	c.close()
}

// write sends c's queued lines, batching what is queued into one write,
// until c is closed or a write fails or blocks for WriteTimeout.
func (s *server) write(c *client) {
	defer s.wg.Done()
	bw := bufio.NewWriter(c.conn)
	for {
		var line string
		select {
		case <-c.gone:
			return
		case line = <-c.out:
		}
		for more := true; more; {
			if line == "" { // from finish: flush, then close
				c.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
				bw.Flush()
				c.close()
				return
			}
			bw.WriteString(line)
			bw.WriteByte('\n')
			select {
			case line = <-c.out:
			default:
				more = false
			}
		}
		c.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
		if bw.Flush() != nil {
			c.close()
			return
		}
	}
}
