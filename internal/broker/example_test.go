package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"net"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/broker"
)

// Accept hands each connection to a handler until its context ends; a
// temporary Accept error (here three EMFILEs) only delays the next.
func ExampleAccept() {
	ln := faultnet.Listen()
	ln.FailAccepts(3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- broker.Accept(ctx, ln, func(c net.Conn) {
			fmt.Fprintln(c, "hello")
			c.Close()
		})
	}()
	c, err := ln.Dial(ctx)
	if err != nil {
		panic(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	fmt.Print(line)
	cancel()
	fmt.Println("Accept returned", <-done)
	// Output:
	// hello
	// Accept returned <nil>
}
