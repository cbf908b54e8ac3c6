package properties_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/server"
)

// Evict(d) is checked through a splice too: RunDial reaches, over loopback
// TCP, a reference server that evicts a client whose write has blocked for
// 1 s, and bounded passes with Evict(3s) declared; with an hour's write
// timeout instead, bounded fails on the eviction. The splice sees the
// server close its socket though the data before the close still waits for
// the stalled client (without that, the first fails too). Over TCP a server
// learns that a client stopped reading only once the buffers on the way are
// full, so the server offers 64 options with 32-byte names (a pushed tally
// is about 2.5 KB, and the server holds one per stalled client: 64 KiB of
// heap is allowed for each) and both sockets have 4 KiB buffers.

const evictDialEnv = "STALLPROOF_EVICT_DIAL_CHILD"

// TestEvictDialChild runs bounded through RunDial with Evict(3s) declared,
// against a server that evicts (STALLPROOF_EVICT_DIAL_CHILD=evicts) or not
// (=keeps); it runs only as a child of TestEvictThroughDial.
func TestEvictDialChild(t *testing.T) {
	mode := os.Getenv(evictDialEnv)
	if mode == "" {
		t.Skip("runs only as a child of TestEvictThroughDial")
	}
	lc := net.ListenConfig{Control: faultnet.SocketBufferControl(4 << 10)}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	writeTimeout := time.Second
	if mode == "keeps" {
		writeTimeout = time.Hour
	}
	options := make([]string, 64)
	for i := range options {
		options[i] = fmt.Sprintf("option-%025d", i)
	}
	srv, err := server.New(server.Config{Options: options, WriteTimeout: writeTimeout, DrainTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	d := net.Dialer{Control: faultnet.SocketBufferControl(4 << 10)}
	dial := func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	t.Cleanup(func() { t.Logf("server evictions: %+v", srv.Stats().Evictions) })
	properties.RunDial(t, dial, properties.Properties("bounded"), properties.Checks(2), properties.HeapPerStalledClient(64<<10),
		properties.SlowConsumers(properties.Evict(3*time.Second)))
}

func TestEvictThroughDial(t *testing.T) {
	if os.Getenv(evictDialEnv) != "" || os.Getenv(policyEnv) != "" || os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel() // children of the test binary: they overlap the other parallel tests
	for mode, passes := range map[string]bool{"evicts": true, "keeps": false} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
			defer cancel()
			cmd := childTest(ctx, "^TestEvictDialChild$", evictDialEnv+"="+mode)
			out, err := cmd.CombinedOutput()
			notEvicted := strings.Contains(string(out), "was not evicted within")
			switch {
			case passes && (err != nil || notEvicted):
				t.Fatalf("a server that evicts a stalled client after 1 s, Evict(3s) declared: want bounded to pass through RunDial:\n%s", out)
			case !passes && (err == nil || !notEvicted):
				t.Fatalf("a server that never evicts, Evict(3s) declared: want bounded to fail on the eviction (failed: %v):\n%s", err != nil, out)
			}
		})
	}
}
