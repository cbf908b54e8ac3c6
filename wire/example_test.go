package wire_test

import (
	"context"
	"fmt"
	"log"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/server"
	"github.com/stallproof/stallproof/wire"
)

// A client of the reference server, over faultnet's in-memory network: it
// is greeted, votes, waits for a tally that counts its vote, makes a bad
// vote, and quits. Every line it reads is checked against protocol v1.
// Pushed tallies come at times that vary from run to run: Reply skips
// them, WaitTally waits for one.
func ExampleClient() {
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
	hello, err := c.Greet()
	fmt.Println(hello, err)
	c.Vote("red")
	ok, err := c.Reply()
	fmt.Println(ok, err)
	tally, err := c.WaitTally(ok.Seq) // the first tally that counts the vote
	fmt.Println(tally, err)
	c.Vote("pink")
	bad, err := c.Reply()
	fmt.Println(bad.Code, err)
	c.Quit()
	rest, err := c.Drain() // BYE, then the server closes
	fmt.Println(rest[len(rest)-1], err)
	conn.Close()

	srv.Shutdown(context.Background())
	fmt.Println("Serve:", <-done)
	// Output:
	// HELLO red,green,blue <nil>
	// OK 1 <nil>
	// TALLY 1 red=1 green=0 blue=0 <nil>
	// unknown-option <nil>
	// BYE <nil>
	// Serve: <nil>
}

// A Session checks a conversation whose I/O is done elsewhere: here, a
// server that pushes the same tally twice.
func ExampleSession() {
	var s wire.Session
	for _, line := range []string{"HELLO yes,no", "TALLY 0 yes=0 no=0", "TALLY 1 yes=1 no=0", "TALLY 1 yes=1 no=0"} {
		if _, err := s.Received(line); err != nil {
			fmt.Println(err)
		}
	}
	s.Sent(wire.AppendQuery(nil)) // a TALLY request: now one repeat is its answer
	_, err := s.Received("TALLY 1 yes=1 no=0")
	fmt.Println(err)
	// Output:
	// the server broke protocol v1: line 4: TALLY 1 again with no TALLY request left to answer (0 sent): a pushed tally must be newer
	// <nil>
}
