package faultnet_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/stallproof/stallproof/faultnet"
)

// A proxy in front of a real server, in any language: here, a line echo
// server on loopback. A Reset injected into the upstream leg of a live
// connection is a reset for the server and for the client alike.
func ExampleNewProxy() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	serverErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				serverErr <- err
				return
			}
			c.Write([]byte(line))
		}
	}()

	p, err := faultnet.NewProxy("127.0.0.1:0", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	c, _ := net.Dial("tcp", p.Addr().String())
	defer c.Close()
	r := bufio.NewReader(c)
	fmt.Fprintln(c, "hello")
	line, _ := r.ReadString('\n')
	fmt.Printf("client: %q\n", line)

	pc := p.Conns()[0]
	pc.Inject(faultnet.UpstreamLeg, faultnet.Reset())
	fmt.Println("server:", errors.Is(<-serverErr, syscall.ECONNRESET))
	_, err = r.ReadString('\n')
	fmt.Println("client:", errors.Is(err, syscall.ECONNRESET))
	<-pc.Done()
	fmt.Println(pc.Stats().Up, "bytes up")
	// Output:
	// client: "hello\n"
	// server: true
	// client: true
	// 6 bytes up
}
