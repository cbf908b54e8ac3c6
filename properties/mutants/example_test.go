package mutants_test

import (
	"context"
	"fmt"
	"net"

	"github.com/stallproof/stallproof/properties/mutants"
	"github.com/stallproof/stallproof/wire"
)

// Each mutant, and the properties that should catch it.
func Example() {
	for _, m := range mutants.All() {
		fmt.Printf("%-17s %v\n", m.Name, m.Caught)
	}
	// Output:
	// lock-across-write [progress isolation]
	// broadcast-worker  [progress isolation]
	// blocking-queue    [progress isolation]
	// deep-blocking-queue [progress isolation]
	// unbounded-queue   [bounded]
	// leaky-writer      [leaks]
	// racy-snapshot     [race consistency]
	// stale-mailbox     [consistency]
	// halfclose-drop    [halfclose]
	// accept-quit       [progress]
	// torn-snapshot     [consistency]
	// seq-before-lock   [consistency]
	// serial-writes     [isolation]
	// forgotten-subscriber [delivery]
	// unbounded-line    [bounded]
}

// A mutant serves like any server: a healthy client sees nothing wrong.
func ExampleMutant_ServeOptions() {
	m, _ := mutants.Lookup("stale-mailbox")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.ServeOptions([]string{"yes", "no"})(ctx, ln) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	c := wire.NewClient(conn)
	c.Vote("yes")
	c.Quit()
	msgs, err := c.Drain() // every line, checked, until the server closes
	for _, m := range msgs {
		if m.Kind != wire.MsgTally { // pushed at any time between replies
			fmt.Println(m)
		}
	}
	fmt.Println("Drain:", err)
	conn.Close()
	cancel()
	fmt.Println("Serve:", <-done)
	// Output:
	// HELLO yes,no
	// OK 1
	// BYE
	// Drain: <nil>
	// Serve: <nil>
}
