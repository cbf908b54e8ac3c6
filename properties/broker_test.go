package properties_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stallproof/stallproof/properties"
)

// broker is a NATS-like pub/sub server for the suite's own tests: each
// client has a reader and a writer goroutine and a queue of pending bytes;
// publishing appends to every subscriber's queue and never waits for one.
// With writeDeadline set, a client whose write blocks that long is closed,
// as NATS closes a slow consumer after its 10 s write deadline; with
// maxPending set, so is one whose queue grows past it. Without either, it
// queues for a stalled client without bound.
//
// Its line protocol: "SUB" subscribes ("+OK"); "PUB text" answers "+OK" and
// pushes "MSG text" to every subscriber; "PING" answers "PONG".
type broker struct {
	writeDeadline time.Duration
	maxPending    int
	// hangOnShutdown: Serve waits for its clients to leave instead of
	// closing them (a Close that blocks on a stalled client).
	hangOnShutdown bool
	// subsOnly: writeDeadline applies to subscribers only, so a client
	// that publishes without reading its +OKs is never evicted.
	subsOnly bool
}

// brokerState is one Serve's: a Run calls Serve once per check, and a
// Serve that hangs may still run beside the next.
type brokerState struct {
	*broker
	mu   sync.Mutex
	subs map[*brokerConn]bool
	all  map[*brokerConn]bool
}

type brokerConn struct {
	b       *brokerState
	c       net.Conn
	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte
	closed  bool
	sub     atomic.Bool // it sent SUB
}

func (cfg *broker) Serve(ctx context.Context, ln net.Listener) error {
	b := &brokerState{broker: cfg, subs: map[*brokerConn]bool{}, all: map[*brokerConn]bool{}}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer wg.Wait()
	defer func() {
		if b.hangOnShutdown {
			return
		}
		b.mu.Lock()
		for c := range b.all {
			c.close()
		}
		b.mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		c := &brokerConn{b: b, c: nc}
		c.cond = sync.NewCond(&c.mu)
		b.mu.Lock()
		b.all[c] = true
		b.mu.Unlock()
		wg.Add(2)
		go func() { defer wg.Done(); c.read() }()
		go func() { defer wg.Done(); c.write() }()
	}
}

func (c *brokerConn) read() {
	defer func() {
		c.close()
		c.b.mu.Lock()
		delete(c.b.subs, c)
		delete(c.b.all, c)
		c.b.mu.Unlock()
	}()
	r := bufio.NewReader(c.c)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case bytes.Equal(line, []byte("SUB")):
			c.b.mu.Lock()
			c.b.subs[c] = true
			c.b.mu.Unlock()
			c.sub.Store(true)
			c.send([]byte("+OK\n"))
		case bytes.HasPrefix(line, []byte("PUB ")):
			msg := append(append([]byte("MSG "), line[4:]...), '\n')
			c.b.mu.Lock()
			for s := range c.b.subs {
				s.send(msg)
			}
			c.b.mu.Unlock()
			c.send([]byte("+OK\n"))
		case bytes.Equal(line, []byte("PING")):
			c.send([]byte("PONG\n"))
		default:
			c.send([]byte("-ERR unknown\n"))
		}
	}
}

// send queues msg for the client; it never blocks.
func (c *brokerConn) send(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.b.maxPending > 0 && len(c.pending)+len(msg) > c.b.maxPending {
		c.closeLocked()
		return
	}
	c.pending = append(c.pending, msg...)
	c.cond.Signal()
}

func (c *brokerConn) write() {
	for {
		c.mu.Lock()
		for len(c.pending) == 0 && !c.closed {
			c.cond.Wait()
		}
		if c.closed {
			c.mu.Unlock()
			return
		}
		out := c.pending
		c.pending = nil
		c.mu.Unlock()
		if c.b.writeDeadline > 0 && (!c.b.subsOnly || c.sub.Load()) {
			_ = c.c.SetWriteDeadline(time.Now().Add(c.b.writeDeadline))
		}
		if _, err := c.c.Write(out); err != nil {
			c.close()
			return
		}
	}
}

func (c *brokerConn) close() {
	c.mu.Lock()
	c.closeLocked()
	c.mu.Unlock()
}

func (c *brokerConn) closeLocked() {
	if c.closed {
		return
	}
	c.closed = true
	c.pending = nil
	c.cond.Broadcast()
	c.c.Close() // the reader returns, and forgets the client
}

// brokerProtocol describes broker to the suite: publishers, and
// subscribers that PING.
func brokerProtocol() properties.Protocol { return brokerProtocolSized(0) }

// brokerProtocolSized is brokerProtocol with payloads of size bytes (0:
// a few).
func brokerProtocolSized(size int) properties.Protocol {
	pad := strings.Repeat("x", size)
	return properties.Protocol{
		Name: "broker",
		Roles: []properties.Role{
			{Name: "publisher", Publishes: true, NoGreeting: true,
				Request: func(id, n int) []byte {
					if size > 0 {
						return fmt.Appendf(nil, "PUB %s\n", pad)
					}
					return fmt.Appendf(nil, "PUB c%d-%d\n", id, n)
				}},
			{Name: "subscriber", Subscribes: true,
				Hello:   func(int) []byte { return []byte("SUB\n") },
				Request: func(int, int) []byte { return []byte("PING\n") }},
		},
		Greeted: func(_ string, _ int, msg []byte) bool { return string(msg) == "+OK" },
		Classify: func(_ string, msg []byte) properties.Class {
			switch {
			case bytes.HasPrefix(msg, []byte("MSG ")):
				return properties.Push
			case bytes.HasPrefix(msg, []byte("-ERR")):
				return properties.ErrorReply
			}
			return properties.Reply
		},
	}
}
