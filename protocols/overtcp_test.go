package protocols_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/protocols"
)

// Over TCP, with 8-byte messages, the suite still catches a broker whose
// publish writes to a stalled subscriber under its lock, and passes the
// fixed one: the server's socket send buffer (4 MiB on Linux loopback)
// would take half a million such pushes to fill; the suite shrinks it (and
// watches it) instead of guessing.

const tcpEnv = "STALLPROOF_PROTOCOLS_TCP"

// serveTCP runs serve on a loopback listener until the test ends.
func serveTCP(t *testing.T, serve properties.ServeFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

func smallLines() properties.Protocol {
	return protocols.Lines(protocols.Channel("chat"), protocols.Payload(8))
}

// TestOverTCPChild runs the broken Lines broker over TCP; only as a child
// of TestSmallMessagesOverTCP.
func TestOverTCPChild(t *testing.T) {
	if os.Getenv(tcpEnv) == "" {
		t.Skip("runs only as a child of TestSmallMessagesOverTCP")
	}
	properties.RunAddr(t, serveTCP(t, broker.ServeLinesBroken), append(brokerPolicy, properties.WithProtocol(smallLines()),
		properties.Properties("progress", "delivery"), properties.Checks(3))...)
}

func TestSmallMessagesOverTCP(t *testing.T) {
	if os.Getenv(tcpEnv) != "" || os.Getenv(brokenEnv) != "" {
		t.Skip("in a child")
	}
	t.Parallel() // its child runs beside TestBrokenFails's
	t.Run("fixed", func(t *testing.T) {
		properties.RunAddr(t, serveTCP(t, broker.ServeLines), append(brokerPolicy, properties.WithProtocol(smallLines()),
			properties.Properties("progress", "delivery"), properties.Checks(3))...)
	})
	t.Run("broken", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestOverTCPChild$", "-test.v", "-test.count=1", "-rapid.nofailfile", "-rapid.shrinktime=1ms") // which property fails is judged, not what it shrinks to
		cmd.Env = append(os.Environ(), tcpEnv+"=1")
		cmd.WaitDelay = 5 * time.Second
		start := time.Now()
		out, err := cmd.CombinedOutput()
		m := violatedRE.FindSubmatch(out)
		if err == nil || m == nil || (string(m[1]) != "progress" && string(m[1]) != "delivery") {
			t.Fatalf("a Lines broker that writes under its lock, 8-byte messages, over TCP: want progress or delivery to fail:\n%s", out)
		}
		t.Logf("caught by %s; the child failed after %.1fs", m[1], time.Since(start).Seconds())
	})
}
