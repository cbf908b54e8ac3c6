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

// ServeConns runs a handler per connection; when its context ends it
// closes every connection, so a handler blocked reading returns, and it
// returns once every handler has.
func ExampleServeConns() {
	ln := faultnet.Listen()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- broker.ServeConns(ctx, ln, func(_ context.Context, c net.Conn) {
			sc := bufio.NewScanner(c)
			for sc.Scan() { // until the client or ServeConns closes c
				fmt.Fprintf(c, "echo %s\n", sc.Text())
			}
		})
	}()
	c, err := ln.Dial(ctx)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	fmt.Fprintln(c, "hi")
	line, _ := r.ReadString('\n')
	fmt.Print(line)
	cancel()
	fmt.Println("ServeConns returned", <-done)
	_, err = r.ReadString('\n')
	fmt.Println("then the client reads:", err)
	// Output:
	// echo hi
	// ServeConns returned <nil>
	// then the client reads: EOF
}
