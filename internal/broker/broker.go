// Package broker is a tiny in-process pub/sub broker that speaks RESP,
// NATS, MQTT 3.1.1 or a line protocol, for the examples and tests of
// package protocols and of stallproof check. It comes in two builds: a correct one, which never
// does I/O under its lock (each connection has its own writer goroutine,
// a publish only appends to each subscriber's pending bytes, and a
// subscriber whose pending bytes would pass MaxPending is disconnected),
// and a broken one, which writes each published message to every
// subscriber while it holds the broker's lock: one subscriber that stops
// reading freezes every publisher and subscriber.
//
// Imported by the tests of package protocols and of cmd/stallproof, and
// by the examples module (examples/pubsub serves with Accept); imports
// only the standard library.
package broker

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Limits of the broker.
const (
	// MaxPending is how many bytes the broker holds for one connection
	// that has not read them; a subscriber that would pass it is
	// disconnected, and a client's own replies wait for room.
	MaxPending = 256 << 10
	// MaxReplies is how many bytes may be pending for a connection
	// before the answer to its next request waits for room (and so the
	// broker stops reading it): a client that sends without reading is
	// pushed back.
	MaxReplies = 64 << 10
	// MaxMessage is the longest request the broker reads.
	MaxMessage = 64 << 10
)

// A handler speaks one protocol on c: it reads requests from r until an
// error, subscribing, publishing and replying through c.
type handler func(c *conn, r *bufio.Reader) error

// serve accepts connections on ln and runs handle for each, until ctx
// ends; then it closes every connection and returns once every goroutine
// it started has ended.
func serve(ctx context.Context, ln net.Listener, broken bool, handle handler) error {
	h := &hub{subs: map[string]map[*conn]func([]byte) []byte{}, conns: map[*conn]struct{}{}, broken: broken}
	err := Accept(ctx, ln, func(nc net.Conn) { h.start(nc, handle) })
	h.mu.Lock()
	for c := range h.conns {
		c.close()
	}
	h.mu.Unlock()
	h.wg.Wait()
	return err
}

// Accept accepts connections on ln and hands each to handle, until ctx
// ends (then it returns nil) or Accept fails for good (then it returns
// that error). A temporary error (EMFILE, ENFILE) is retried after a pause
// that doubles from 5 ms to 1 s, as net/http does. The broker's accept
// loop, exported for the examples module (examples/pubsub's servers, and
// the broken chat server of examples/chat's tests).
func Accept(ctx context.Context, ln net.Listener, handle func(net.Conn)) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			delay = 0
			handle(nc)
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
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

// ServeConns serves each connection accepted on ln (Accept) with serve,
// on a goroutine of its own, until ctx ends or Accept fails for good. A
// connection is closed once its serve returns, or once ctx ends, which
// makes a serve blocked reading it return. ServeConns returns Accept's
// error once every serve has returned. The accept loop of a test server,
// for the examples module and the tests of package properties.
func ServeConns(ctx context.Context, ln net.Listener, serve func(ctx context.Context, c net.Conn)) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	err := Accept(ctx, ln, func(c net.Conn) {
		wg.Go(func() {
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			defer c.Close()
			serve(ctx, c)
		})
	})
	cancel()
	wg.Wait()
	return err
}

// hub is the broker's state: the subscribers of each topic, each with the
// function that formats a published message for it.
type hub struct {
	mu     sync.Mutex
	subs   map[string]map[*conn]func(payload []byte) []byte
	conns  map[*conn]struct{}
	broken bool
	wg     sync.WaitGroup
}

// conn is one client connection: its reader runs the handler; its writer
// alone writes what the others append to pending (in the broken build,
// everyone writes directly).
type conn struct {
	net.Conn
	h      *hub
	topics []string // guarded by h.mu

	pmu     sync.Mutex
	room    *sync.Cond
	pending []byte
	wake    chan struct{}
	gone    chan struct{}
	once    sync.Once
}

func (h *hub) start(nc net.Conn, handle handler) {
	c := &conn{Conn: nc, h: h, wake: make(chan struct{}, 1), gone: make(chan struct{})}
	c.room = sync.NewCond(&c.pmu)
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		defer h.drop(c)
		_ = handle(c, bufio.NewReaderSize(c, 4096))
	}()
	go func() {
		defer h.wg.Done()
		c.write()
	}()
}

// subscribe adds c to topic's subscribers; format makes the push of a
// published payload.
func (c *conn) subscribe(topic string, format func(payload []byte) []byte) {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	subs := c.h.subs[topic]
	if subs == nil {
		subs = map[*conn]func([]byte) []byte{}
		c.h.subs[topic] = subs
	}
	if _, ok := subs[c]; !ok {
		c.topics = append(c.topics, topic)
	}
	subs[c] = format
}

// publish pushes payload to topic's subscribers and returns how many
// there were.
func (c *conn) publish(topic string, payload []byte) int {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	for sub, format := range c.h.subs[topic] {
		msg := format(payload)
		if c.h.broken {
			_, _ = sub.Write(msg) // THE BUG: a Write that blocks with the lock held
			continue
		}
		sub.push(msg)
	}
	return len(c.h.subs[topic])
}

// reply queues the answer to c's own request, waiting while c's pending
// bytes fill MaxReplies: a client that does not read its replies is no
// longer read.
func (c *conn) reply(b []byte) {
	if c.h.broken {
		_, _ = c.Write(b)
		return
	}
	c.pmu.Lock()
	for len(c.pending) > 0 && len(c.pending)+len(b) > MaxReplies && !c.isGone() {
		c.room.Wait()
	}
	c.pending = append(c.pending, b...)
	c.pmu.Unlock()
	c.signal()
}

// push queues a published message without blocking; a subscriber whose
// pending bytes would pass MaxPending is a slow consumer, and is closed.
func (c *conn) push(b []byte) {
	c.pmu.Lock()
	full := len(c.pending)+len(b) > MaxPending
	if !full {
		c.pending = append(c.pending, b...)
	}
	c.pmu.Unlock()
	if full {
		c.close()
		return
	}
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) isGone() bool {
	select {
	case <-c.gone:
		return true
	default:
		return false
	}
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.gone)
		_ = c.Conn.Close()
		c.pmu.Lock()
		c.room.Broadcast()
		c.pmu.Unlock()
	})
}

// drop forgets c and closes it.
func (h *hub) drop(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	for _, t := range c.topics {
		delete(h.subs[t], c)
		if len(h.subs[t]) == 0 {
			delete(h.subs, t)
		}
	}
	h.mu.Unlock()
	c.close()
}

// write writes what is pending, with no lock held, until c is closed or a
// write fails.
func (c *conn) write() {
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
		c.room.Broadcast()
		c.pmu.Unlock()
		if len(buf) > 0 {
			if _, err := c.Conn.Write(buf); err != nil {
				return
			}
		}
	}
}
