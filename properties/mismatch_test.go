package properties_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	brokers "github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
)

// whatServer answers every line with "WHAT?": it speaks no protocol the
// suite was told of.
func whatServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- brokers.ServeConns(ctx, ln, func(_ context.Context, c net.Conn) {
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				if _, err := io.WriteString(c, "WHAT?\n"); err != nil {
					return
				}
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// A server that never speaks the described protocol is a mismatch, not a
// violation: CheckAddr says "could not speak" and what it saw.
func TestCheckAddrMismatch(t *testing.T) {
	quickShrink(t)
	addr := whatServer(t)
	lines := properties.Adapter{
		RequestLine: func(id, n int) string { return "PING\n" },
		IsReply:     func(line string) bool { return line == "PONG" },
	}.Protocol()
	lines.Classify = func(_ string, msg []byte) properties.Class {
		if string(msg) == "PONG" {
			return properties.Reply
		}
		return properties.Ignore
	}
	for name, p := range map[string]properties.Option{
		"greeting never matches": properties.Checks(1), // protocol v1: its greeting is a tally
		"answers never classify": properties.WithProtocol(lines),
	} {
		t.Run(name, func(t *testing.T) {
			var out strings.Builder
			// A short bound: what is awaited never comes, however long.
			_, err := properties.CheckAddr(&out, addr, p, properties.Checks(1), properties.Properties("progress", "delivery"), properties.Bound(500*time.Millisecond))
			var mm *properties.MismatchError
			require.True(t, errors.As(err, &mm), "want a MismatchError, got %v:\n%s", err, out.String())
			require.Contains(t, err.Error(), "could not speak ")
			require.Contains(t, err.Error(), "to the server at "+addr)
			require.Contains(t, err.Error(), "the harness saw: ")
		})
	}
}
