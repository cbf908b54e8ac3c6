//go:build linux

package faultnet_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/netns"
)

// A server in a private network namespace (as RunExec runs one) that
// evicts a stalled client is seen as on the host: the splice reads the
// kernel's table of the namespace its own socket is in, not this thread's.
func TestSpliceSeesServerCloseInANamespace(t *testing.T) {
	t.Parallel()
	ns, err := netns.New(16 << 10)
	if errors.Is(err, netns.ErrPermission) || errors.Is(err, netns.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	ln, err := ns.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	far, server := acceptedPair(t, ln, func() (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), liveness)
		defer cancel()
		return ns.Dial(ctx, nil, "tcp", ln.Addr().String())
	})
	client, end := faultnet.Pipe()
	sp := faultnet.Splice(end, faultnet.Wrap(far))
	defer func() {
		client.Close()
		server.Close()
		waitWithin(t, sp.Close)
	}()

	evictStalled(t, server, false)
	closedAt := time.Now()
	for !slices.ContainsFunc(client.Peer().Events(), func(e faultnet.Event) bool { return e.Kind == faultnet.EventFarClose }) {
		if time.Since(closedAt) > liveness {
			t.Fatalf("the server in %v closed the stalled client %v ago; the client's end logged no far-close: %v",
				ns, liveness, client.Peer().Events())
		}
		time.Sleep(10 * time.Millisecond) // polling the event log
	}
	t.Logf("far-close logged %v after the server's close", time.Since(closedAt).Round(time.Millisecond))
}
