package pubsub_test

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/faultnet"
)

// lineClient is a test client of the line protocol.
type lineClient struct {
	t    *testing.T
	conn *faultnet.Conn
	r    *bufio.Reader

	stall *faultnet.Injection // set while the client stalls its reads
}

func dial(t *testing.T, srv *exampletest.Server) *lineClient {
	t.Helper()
	conn, err := srv.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &lineClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *lineClient) send(line string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(exampletest.Bound))
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
}

// next reads one line within exampletest.Bound.
func (c *lineClient) next() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(exampletest.Bound))
	line, err := c.r.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// expect reads one line and fails the test unless it is want.
func (c *lineClient) expect(want string) {
	c.t.Helper()
	got, err := c.next()
	if err != nil {
		c.t.Fatalf("want %q, got error %v", want, err)
	}
	if got != want {
		c.t.Fatalf("want %q, got %q", want, got)
	}
}
