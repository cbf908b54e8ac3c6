package properties_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	brokers "github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
)

// bigLines serves a line protocol of large requests: every line is
// answered "OK" by the connection's own goroutine, with no lock shared
// between clients. It is correct: whatever the suite finds against it is
// the suite's own doing.
func bigLines(ctx context.Context, ln net.Listener) error {
	return brokers.ServeConns(ctx, ln, func(_ context.Context, c net.Conn) {
		r := bufio.NewReaderSize(c, 64<<10)
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			// The answer echoes the request: replies as large as the
			// requests, so that a client that does not read fills the
			// server's buffers as fast as it sends.
			if _, err := c.Write(append([]byte("OK "), line[4:]...)); err != nil {
				return
			}
		}
	})
}

// bigLineProtocol describes bigLines with requests of size bytes.
func bigLineProtocol(size int) properties.Protocol {
	req := []byte("REQ " + strings.Repeat("x", size) + "\n")
	return properties.Protocol{
		Name:       fmt.Sprintf("echo of %d-byte lines", size),
		Roles:      []properties.Role{{Name: "client", Request: func(id, n int) []byte { return req }}},
		MaxMessage: 2 * size,
		Classify: func(_ string, msg []byte) properties.Class {
			if bytes.HasPrefix(msg, []byte("OK ")) {
				return properties.Reply
			}
			return properties.ErrorReply
		},
	}
}

// TestLargeMessagesAddr: a correct server with 16 KiB messages passes
// through RunAddr. Before the fragmenter's pieces scaled with the request,
// it failed progress about one run in two: the suite's own byte-at-a-time
// client could not write 200 requests within the bound, and the Run then
// declared the server stopped.
func TestLargeMessagesAddr(t *testing.T) {
	properties.RunAddr(t, tcpServer(t, bigLines), properties.WithProtocol(bigLineProtocol(16<<10)),
		properties.Properties("progress"), properties.Checks(5))
}
