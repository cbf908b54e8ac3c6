package properties

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// libClient is a client that the protocol's own client library drives
// (Protocol.Connect): the library reads and writes, reports pushes through
// the callback, and answers for each request. Its connections are still
// the suite's, so faults reach the server.
type libClient struct {
	c   *client
	lib Client
}

// connectLib makes c a client of the protocol's client library, within
// the bound.
func (e *env) connectLib(ctx context.Context, c *client) error {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		conn, err := e.dialConn(ctx)
		if err != nil {
			return nil, err
		}
		c.adopt(conn)
		return conn, nil
	}
	type result struct {
		cl  Client
		err error
	}
	ch := make(chan result, 1)
	go func() {
		cl, err := e.proto.Connect(ctx, dial, ClientInfo{ID: c.id, Role: c.role.Name}, func(msg []byte) {
			c.mark("push", msg)
			c.remember(msg)
			c.notePush(msg)
		})
		ch <- result{cl, err}
	}()
	b := e.newBound()
	defer b.stop()
	for {
		select {
		case r := <-ch:
			if r.err != nil {
				c.finish()
				return fmt.Errorf("the protocol's Connect: %w", r.err)
			}
			l := &libClient{c: c, lib: r.cl}
			c.t = l
			c.markGreeted()
			if d, ok := r.cl.(interface{ Done() <-chan struct{} }); ok {
				go l.watchDropped(d.Done())
			}
			return nil
		case <-b.C():
			if !b.expired() {
				continue
			}
			go func() { // the library ignored ctx: close what it makes
				if r := <-ch; r.cl != nil {
					_ = r.cl.Close()
				}
			}()
			c.finish()
			return fmt.Errorf("the protocol's Connect did not return within %v", e.bound)
		}
	}
}

// request makes one request through the client library, within the
// bound. The variant is protocol v1's, which has no library.
func (l *libClient) request(int) bool {
	n := l.c.nreq
	l.c.nreq++
	return l.requestN(n)
}

// requestN makes the client's n-th request and waits for its answer,
// within the bound; it may run on several goroutines at once.
func (l *libClient) requestN(n int) bool {
	c, e := l.c, l.c.env
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	sent := e.tick()
	desc := fmt.Sprintf("request %d", n)
	c.mark("request", []byte(desc))
	done := make(chan error, 1)
	go func() { done <- l.lib.Request(ctx, n) }()
	b := e.newBound()
	defer b.stop()
	for {
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				c.mark("error", []byte(err.Error()))
				e.logf("%v: %s answered with an error: %v", c, desc, err)
			} else {
				c.mark("reply", []byte(desc))
			}
			e.noteAnswered(c, sent)
			return true
		case <-b.C():
			if b.expired() {
				e.violate(propProgress, "%v: %s not answered within %v", c, desc, e.bound)
				return false
			}
		}
	}
}

// MaxConcurrentRequests is how many goroutines make one client's burst of
// requests at once when its Protocol says ConcurrentRequests.
const MaxConcurrentRequests = 16

// parallel makes n requests: from up to MaxConcurrentRequests goroutines
// at once if the protocol says its library allows it, else one after
// another. It stops early once a request is not answered.
func (l *libClient) parallel(n int) {
	e := l.c.env
	if !e.proto.ConcurrentRequests || n < 2 {
		for range n {
			if !l.request(0) {
				return
			}
		}
		return
	}
	base := l.c.nreq
	l.c.nreq += n
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, MaxConcurrentRequests) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || e.stuck() || !l.requestN(base+i) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// close closes the library, then any connection it left open.
func (l *libClient) close() {
	_ = l.lib.Close()
	for _, conn := range l.c.connections() {
		_ = conn.Close()
	}
	l.c.finish()
}

// errDropped is what a library client that the server dropped has seen.
var errDropped = errors.New("the client library says the server ended the connection")

// watchDropped marks a library client ended once the library says the
// server dropped it (its Done channel closed), as a reader marks an EOF.
func (l *libClient) watchDropped(done <-chan struct{}) {
	c := l.c
	select {
	case <-done:
		c.mu.Lock()
		if c.readErr == nil {
			c.readErr = errDropped
		}
		c.cond.Broadcast()
		c.mu.Unlock()
	case <-c.done:
	}
}
