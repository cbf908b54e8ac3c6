package properties_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/server"
)

// Copy this into a _test.go file of your server's package, with your
// server in place of the reference one. (It has no output to check: it
// shows the code to write; TestReference runs it.)
func ExampleRun() {
	TestMyServer := func(t *testing.T) {
		properties.Run(t, func(ctx context.Context, ln net.Listener) error {
			srv, err := server.New(server.Config{})
			if err != nil {
				return err
			}
			return srv.Serve(ctx, ln)
		})
	}
	_ = TestMyServer
}

// Protocol v1 is one description among others: one role that votes and is
// pushed tallies, which conflate.
func ExampleProtocolV1() {
	p := properties.ProtocolV1()
	for _, r := range p.Roles {
		fmt.Printf("%s: publishes %v, subscribes %v\n", r.Name, r.Publishes, r.Subscribes)
	}
	fmt.Println(p.Delivery)
	fmt.Println(p.Classify("voter", []byte("TALLY 3 red=2 green=1 blue=0")), p.Classify("voter", []byte("OK 3")))
	fmt.Println(p.Version("voter", []byte("TALLY 3 red=2 green=1 blue=0")))
	// Output:
	// voter: publishes true, subscribes true
	// Latest
	// push reply
	// 3 true
}

// A state feed (a ticker, a tally) may conflate: with Delivery Latest and a
// Version, the delivery property checks that every subscriber ends up
// holding the newest state, and a server that keeps the oldest pending
// state for a slow subscriber fails it. A broker that documents its queue
// in messages declares it as such.
func ExampleProtocol_version() {
	ticker := properties.Protocol{
		Name:     "ticker",
		Delivery: properties.Latest,
		// "PRICE <seq> <value>": the seq orders the states.
		Version: func(_ string, msg []byte) (int64, bool) {
			var seq int64
			_, err := fmt.Sscanf(string(msg), "PRICE %d", &seq)
			return seq, err == nil
		},
	}
	fmt.Println(ticker.Version("subscriber", []byte("PRICE 42 101.5")))
	fmt.Println(properties.SlowConsumers(properties.DropMessages(1000)))
	// Output:
	// 42 true
	// SlowConsumers(DropMessages(1000))
}

// An Adapter is shorthand for a Protocol with one role; options print as
// the code that made them, so a shrunk failure reads as code.
func ExampleAdapter_Protocol() {
	a := properties.Adapter{
		Greeting:    1,
		RequestLine: func(id, n int) string { return fmt.Sprintf("SAY %d-%d\n", id, n) },
		IsReply:     func(line string) bool { return strings.HasPrefix(line, "SENT ") },
	}
	p := a.Protocol()
	fmt.Printf("%s, role %q, first request %q\n", p.Name, p.Roles[0].Name, p.Roles[0].Request(3, 0))
	fmt.Println(p.Classify("client", []byte("SENT 1")), p.Classify("client", []byte("MSG 1 hi")))
	fmt.Println(properties.SlowConsumers(properties.Evict(10*time.Second)), properties.Checks(50))
	// Output:
	// adapter protocol, role "client", first request "SAY 3-0\n"
	// reply push
	// SlowConsumers(Evict(10s)) Checks(50)
}

// A server in any language, started by the suite inside a private network
// namespace with 16 KiB socket buffers, told its port through {port} (and
// $PORT). It needs Linux and root; TestExecReference and the examples
// pyserver and nodeserver run it.
func ExampleRunExec() {
	TestChatServer := func(t *testing.T) {
		properties.RunExec(t, []string{"python3", "chat.py", "--port", "{port}"},
			properties.WithAdapter(properties.Adapter{
				Greeting:    1,
				RequestLine: func(id, n int) string { return fmt.Sprintf("PUB %d-%d\n", id, n) },
				IsReply:     func(line string) bool { return strings.HasPrefix(line, "OK ") },
			}),
			properties.ExecSocketBufferSize(16<<10))
	}
	_ = TestChatServer
	fmt.Println(properties.ExecSocketBufferSize(16 << 10))
	// Output: ExecSocketBufferSize(16384)
}

// VirtualTime runs each check in a testing/synctest bubble: waiting costs
// no wall time. If the bubble's clock stands still (a goroutine waits for
// a lock), the Run goes on in real time and its verdict notes say why.
func ExampleVirtualTime() {
	TestMyServer := func(t *testing.T) {
		properties.Run(t, reference, properties.VirtualTime()) // reference: your ServeFunc
	}
	_ = TestMyServer
}

// A server whose Serve calls share state (here a package-level count of
// clients, which an admin endpoint reads) would see the clients of checks
// running side by side: OneAtATime runs every property in turn. Better,
// where it can be done: keep the state per Serve call, as ServeFunc asks.
func ExampleOneAtATime() {
	var clients atomic.Int64 // shared by every Serve call
	TestSharedCount := func(t *testing.T) {
		properties.Run(t, func(ctx context.Context, ln net.Listener) error {
			srv, err := server.New(server.Config{})
			if err != nil {
				return err
			}
			return srv.Serve(ctx, countingListener{ln, &clients})
		}, properties.OneAtATime())
	}
	_ = TestSharedCount
}

// countingListener counts the connections it accepts in n.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
