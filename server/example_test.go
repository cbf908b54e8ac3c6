package server_test

import (
	"context"
	"fmt"
	"log"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/server"
	"github.com/stallproof/stallproof/wire"
)

// A server on faultnet's in-memory network, one client that votes twice
// and half-closes, and a graceful shutdown. Pushed tallies interleave with
// the replies at times that vary from run to run, so the example prints
// the replies and the last tally, which is always the latest.
func Example() {
	srv, err := server.New(server.Config{}) // options red, green, blue
	if err != nil {
		log.Fatal(err)
	}
	ln := faultnet.Listen()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()

	conn, err := ln.Dial(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	c := wire.NewClient(conn)
	c.Send("VOTE red\nVOTE blue\nVOTE pink\n")
	conn.CloseWrite() // the server answers everything, sends the latest tally, and closes

	msgs, err := c.Drain() // every line until the close, checked against protocol v1
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind != wire.MsgTally {
			fmt.Println(m)
		}
	}
	last, _ := c.LastTally()
	fmt.Println(last)

	srv.Shutdown(context.Background())
	fmt.Println("Serve:", <-done)
	// Output:
	// HELLO red,green,blue
	// OK 1
	// OK 2
	// ERR unknown-option no such option: pink
	// TALLY 2 red=1 green=0 blue=1
	// Serve: <nil>
}
