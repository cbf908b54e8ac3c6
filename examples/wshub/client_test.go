package wshub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/faultnet"
)

// wsClient is a test client: gorilla's client over a faultnet connection,
// read by a goroutine of its own.
type wsClient struct {
	conn  *websocket.Conn
	raw   *faultnet.Conn
	msgs  *exampletest.Inbox[string]
	stall *faultnet.Injection
}

// join connects a client and waits for its "joined" message.
func join(t *testing.T, srv *exampletest.Server) *wsClient {
	t.Helper()
	d := websocket.Dialer{NetDialContext: srv.DialContext, HandshakeTimeout: exampletest.Bound}
	conn, _, err := d.DialContext(context.Background(), "ws://hub.test/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{conn: conn, raw: srv.Last(), msgs: exampletest.Receive(func() (string, error) {
		_, msg, err := conn.ReadMessage()
		return string(msg), err
	})}
	if msg := c.next(t); !strings.HasPrefix(msg, "joined ") {
		t.Fatalf("first message %q, want joined <n>", msg)
	}
	return c
}

func (c *wsClient) send(t *testing.T, msg string) {
	t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(exampletest.Bound))
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("send %q: %v", msg, err)
	}
}

// next returns the next message within exampletest.Bound.
func (c *wsClient) next(t *testing.T) string {
	t.Helper()
	msg, err := c.msgs.Next()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func payload(i int) string { return fmt.Sprintf("%05d-%s", i, strings.Repeat("p", 90)) }
