package wshub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stallproof/stallproof/examples/internal/servetest"
	"github.com/stallproof/stallproof/faultnet"
)

// bound is how long a healthy client waits for a message: generous, since a
// frozen server is infinitely slow.
const bound = 5 * time.Second

// wsClient is a test client: gorilla's client over a faultnet connection,
// read by a goroutine of its own.
type wsClient struct {
	conn  *websocket.Conn
	raw   *faultnet.Conn
	msgs  chan string // closed when reading ends
	err   error       // why reading ended; read after msgs is closed
	stall *faultnet.Injection
}

// join connects a client and waits for its "joined" message.
func join(t *testing.T, srv *servetest.Server) *wsClient {
	t.Helper()
	d := websocket.Dialer{NetDialContext: srv.DialContext, HandshakeTimeout: bound}
	conn, _, err := d.DialContext(context.Background(), "ws://hub.test/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{conn: conn, raw: srv.Last(), msgs: make(chan string, 1<<14)}
	go func() {
		defer close(c.msgs)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			c.msgs <- string(msg)
		}
	}()
	if msg := c.next(t); !strings.HasPrefix(msg, "joined ") {
		t.Fatalf("first message %q, want joined <n>", msg)
	}
	return c
}

func (c *wsClient) send(t *testing.T, msg string) {
	t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(bound))
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("send %q: %v", msg, err)
	}
}

// next returns the next message within bound.
func (c *wsClient) next(t *testing.T) string {
	t.Helper()
	msg, err := c.nextErr()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func (c *wsClient) nextErr() (string, error) {
	select {
	case msg, ok := <-c.msgs:
		if !ok {
			return "", fmt.Errorf("the connection ended: %w", c.err)
		}
		return msg, nil
	case <-time.After(bound):
		return "", errNoMessage
	}
}

// errNoMessage: nothing came within the bound.
var errNoMessage = fmt.Errorf("no message within %v", bound)

func payload(i int) string { return fmt.Sprintf("%05d-%s", i, strings.Repeat("p", 90)) }
