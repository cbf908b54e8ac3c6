package properties

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// wireClient is a client whose connection the suite reads and writes
// itself: a reader goroutine frames and classifies what the server sends,
// and the driver writes requests in the protocol's bytes.
type wireClient struct {
	c           *client
	bw          *bufio.Writer // used by the driver goroutine only
	replies     chan reply    // Reply and ErrorReply messages, in order
	outstanding atomic.Int64  // requests written and not yet answered
}

// startWire makes c a client on the wire over its first connection and
// starts its reader.
func startWire(c *client) *wireClient {
	w := &wireClient{c: c, bw: bufio.NewWriter(c.conn), replies: make(chan reply, 1024)}
	c.t = w
	go w.readLoop()
	return w
}

// notAwaited marks every answer from now on as not awaited: a client that
// floods without reading.
func (w *wireClient) notAwaited() { w.outstanding.Add(1 << 40) }

// readLoop reads the server's messages until EOF or an error: it frames
// them with the protocol's Split, waits for the greeting, and classifies
// each message. Replies and errors go to a queue in order; pushes are
// counted.
func (w *wireClient) readLoop() {
	c := w.c
	defer close(c.done)
	defer c.ended()
	p := &c.env.proto
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(make([]byte, 0, 4096), p.maxMessage())
	sc.Split(p.split())
	n := 0
	greeting := p.greets(c.role)
	if !greeting {
		c.markGreeted()
	}
	for sc.Scan() {
		msg := sc.Bytes()
		c.remember(msg)
		if greeting {
			if p.v1 {
				c.env.v1.onGreeting(c, msg)
			}
			done := p.Greeted(c.role.Name, n, msg)
			n++
			if done {
				greeting = false
				c.env.cfg.noteSpoke()
				c.markGreeted()
			}
			continue
		}
		cl := p.classify(c.role.Name, msg)
		c.mark(cl.String(), msg)
		if p.v1 {
			c.env.v1.observe(c, cl, msg)
		}
		switch cl {
		case Reply, ErrorReply:
			if w.outstanding.Add(-1) < 0 {
				w.outstanding.Add(1)
				if cl == ErrorReply {
					c.noteNotice()
					continue
				}
				c.env.violate(propProtocol, "%v received a reply to no request: %q", c, msg)
				continue
			}
			select {
			case w.replies <- reply{cl, string(msg)}:
			default: // only a client that stopped reading falls this far behind
			}
		case Push:
			c.notePush(msg)
		}
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	} else if errors.Is(err, bufio.ErrTooLong) {
		err = fmt.Errorf("a server message longer than %d bytes", p.maxMessage())
	}
	c.mu.Lock()
	c.readErr = err
	c.mu.Unlock()
}

// send writes bytes with a deadline of the bound; n of them are requests
// that each expect an answer.
func (w *wireClient) send(b []byte, n int) error {
	w.outstanding.Add(int64(n))
	w.c.noteWritten(b)
	_ = w.c.conn.SetWriteDeadline(time.Now().Add(w.c.env.bound))
	w.bw.Write(b)
	return w.bw.Flush()
}

// await returns the next Reply or ErrorReply, or an error once the bound has
// passed or the connection ended.
func (w *wireClient) await(ctx context.Context) (reply, error) {
	c := w.c
	b := c.env.newBound()
	defer b.stop()
	for {
		select {
		case m := <-w.replies:
			return m, nil
		case <-c.done:
			select {
			case m := <-w.replies:
				return m, nil
			default:
			}
			return reply{}, fmt.Errorf("connection ended: %v", c.err())
		case <-b.C():
			if b.expired() {
				return reply{}, errStuck
			}
		case <-ctx.Done():
			return reply{}, ctx.Err()
		}
	}
}

var errStuck = errors.New("no answer within the bound")

// request makes the client's next request and waits for its answer.
func (w *wireClient) request(variant int) bool {
	c, e := w.c, w.c.env
	req := e.nextRequest(c, variant)
	sentAt, sent := time.Now(), e.tick()
	c.mark("request", req)
	blocked0 := c.conn.Stats().WriteBlocked
	if err := w.send(req, 1); err != nil {
		e.sendFailed(c, requestDesc(req), err, sentAt, blocked0)
		return false
	}
	if e.v1 != nil {
		e.v1.noteSent(req, 1)
	}
	return w.expectAnswer(req, sent)
}

// expectAnswer waits for the answer to req.
func (w *wireClient) expectAnswer(req []byte, sent int64) bool {
	c, e := w.c, w.c.env
	r, err := w.await(e.ctx)
	if err != nil {
		e.violate(propProgress, "%v: request %s not answered: %v (last messages %q)", c, requestDesc(req), err, c.lastLines())
		return false
	}
	e.noteAnswered(c, sent)
	e.mu.Lock()
	e.replyCount++
	e.replyBytes += int64(len(r.msg)) + 1 // and a terminator
	e.mu.Unlock()
	if e.v1 != nil {
		e.v1.answered(c, req, r)
	}
	return true
}

// parallel sends n requests in one write and waits for the answers.
func (w *wireClient) parallel(n int) {
	c, e := w.c, w.c.env
	var buf bytes.Buffer
	var reqs [][]byte
	for range n {
		r := e.nextRequest(c, c.id)
		reqs = append(reqs, r)
		buf.Write(r)
	}
	sentAt, sent := time.Now(), e.tick()
	c.markN("request", fmt.Appendf(nil, "%d requests at once: %s", n, bytes.TrimRight(reqs[0], "\r\n")), n)
	blocked0 := c.conn.Stats().WriteBlocked
	if err := w.send(buf.Bytes(), n); err != nil {
		e.sendFailed(c, fmt.Sprintf("%d requests", n), err, sentAt, blocked0)
		return
	}
	if e.v1 != nil {
		e.v1.noteSent(reqs[0], n)
	}
	for _, r := range reqs {
		if !w.expectAnswer(r, sent) {
			return
		}
	}
}

// pipeline sends n requests (variant i) in one write without waiting for
// answers: how a client that does not read behaves. A write that blocks is
// the server pushing back, which is allowed.
func (w *wireClient) pipeline(i, n int) {
	c, e := w.c, w.c.env
	var buf bytes.Buffer
	var one []byte
	for range n {
		one = e.nextRequest(c, i)
		buf.Write(one)
	}
	// Not a liveness bound: how long the client keeps trying to write.
	_ = c.conn.SetWriteDeadline(time.Now().Add(min(e.bound, 100*time.Millisecond)))
	w.outstanding.Add(int64(n))
	if len(one) > 0 {
		c.markN("request", fmt.Appendf(nil, "%d requests pipelined: %s", n, bytes.TrimRight(one, "\r\n")), n)
	}
	n2, _ := c.conn.Write(buf.Bytes())
	c.noteWritten(buf.Bytes()[:n2])
	if e.v1 != nil && len(one) > 0 {
		e.v1.noteSent(one, n2/len(one))
	}
}

// close closes the connection; the reader then ends.
func (w *wireClient) close() {
	for _, conn := range w.c.connections() {
		_ = conn.Close()
	}
}

// noteWritten tells protocol v1's session of c what c wrote: the session
// counts the TALLY requests, whose answers may repeat a tally. A request
// is noted before it is written, as its answer may come at once.
func (c *client) noteWritten(b []byte) {
	if c.env.v1 != nil {
		c.v1.sess.Sent(b)
	}
}
