// Package chat is a small broadcast chat server that is not a voting server:
// the worked example of PORTING.md, showing how a team runs stallproof's
// property suite against a server with its own protocol.
//
// Protocol: on connect the server sends "WELCOME". A client sends
// "SAY <text>"; the server answers "SENT <n>", n being the message's number,
// and pushes "MSG <n> <text>" to every client. Anything else gets "ERR".
//
// Its design is the one the suite rewards: no I/O under the lock, one writer
// goroutine per client fed by a bounded outbox, and eviction of a client
// whose outbox is full, so one client that stops reading slows no one.
package chat

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	outboxLen    = 4096            // queued lines per client before it is evicted
	writeTimeout = 5 * time.Second // a write blocked longer evicts the client
	maxLine      = 512
)

// Server is a chat server. Its zero value is not usable; call New.
type Server struct {
	mu      sync.Mutex
	clients map[*client]struct{}
	n       uint64
	wg      sync.WaitGroup
}

type client struct {
	conn   net.Conn
	outbox chan string
	gone   chan struct{}
	once   sync.Once
}

// New returns a server.
func New() *Server { return &Server{clients: map[*client]struct{}{}} }

// Serve accepts clients on ln until ctx ends, then closes every client and
// returns once all its goroutines have ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx) // ended also when Accept fails for good
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var err error
	for delay := time.Duration(0); ; {
		conn, aerr := ln.Accept()
		if aerr != nil {
			// EMFILE and ENFILE: back off and retry, never give up.
			var te interface{ Temporary() bool }
			if ctx.Err() == nil && errors.As(aerr, &te) && te.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
					continue
				case <-ctx.Done():
				}
			}
			if ctx.Err() == nil {
				err = aerr
			}
			break
		}
		delay = 0
		c := &client{conn: conn, outbox: make(chan string, outboxLen), gone: make(chan struct{})}
		s.mu.Lock()
		s.clients[c] = struct{}{}
		s.mu.Unlock()
		c.send("WELCOME")
		s.wg.Add(2)
		go s.read(ctx, c)
		go s.write(c)
	}
	cancel() // closes every client
	s.wg.Wait()
	return err
}

// reply queues the answer to c's own request, waiting while c's outbox is
// full: a client that does not read its replies stops being read (TCP
// backpressure), and costs no more memory.
func (c *client) reply(line string) {
	select {
	case c.outbox <- line:
	case <-c.gone:
	}
}

// send queues a pushed line for c without blocking; a full outbox evicts c.
func (c *client) send(line string) {
	select {
	case c.outbox <- line:
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

func (s *Server) read(ctx context.Context, c *client) {
	defer s.wg.Done()
	stop := context.AfterFunc(ctx, c.close)
	defer stop()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
		c.close()
	}()
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(make([]byte, 0, 1024), maxLine)
	for sc.Scan() {
		text, ok := strings.CutPrefix(sc.Text(), "SAY ")
		if !ok {
			c.reply("ERR want SAY <text>")
			continue
		}
		s.mu.Lock()
		s.n++
		n := strconv.FormatUint(s.n, 10)
		for o := range s.clients {
			o.send("MSG " + n + " " + text) // never blocks: evicts instead
		}
		s.mu.Unlock()
		c.reply("SENT " + n)
	}
}

func (s *Server) write(c *client) {
	defer s.wg.Done()
	bw := bufio.NewWriter(c.conn)
	for {
		select {
		case <-c.gone:
			return
		case line := <-c.outbox:
			bw.WriteString(line)
			bw.WriteByte('\n')
			for more := true; more; { // batch what is queued into one write
				select {
				case l := <-c.outbox:
					bw.WriteString(l)
					bw.WriteByte('\n')
				default:
					more = false
				}
			}
			c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if bw.Flush() != nil {
				c.close()
				return
			}
		}
	}
}
