package faultnet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

func ExamplePipe() {
	client, server := faultnet.Pipe(faultnet.BufferSize(8))
	defer client.Close()
	defer server.Close()

	// Writes return once buffered; the peer reads them later.
	client.Write([]byte("hello"))
	buf := make([]byte, 16)
	n, _ := server.Read(buf)
	fmt.Printf("server read %q\n", buf[:n])

	// A writer blocks once its peer has fallen a whole buffer behind:
	// with a deadline, the Write reports exactly what the peer can read.
	client.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	n, err := client.Write([]byte("0123456789abcdef"))
	fmt.Println(n, errors.Is(err, os.ErrDeadlineExceeded))
	// Output:
	// server read "hello"
	// 8 true
}

// A client that stops reading: the server's Write blocks once the buffer is
// full, at an exact byte count, and the event log says where.
func Example_stallClient() {
	client, server := faultnet.Pipe(faultnet.BufferSize(64<<10), faultnet.Name("client-3"))
	defer client.Close()
	defer server.Close()

	stall := client.Inject(faultnet.StallReads())
	server.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	n, err := server.Write(make([]byte, 100<<10))
	fmt.Println("written:", n, "timeout:", errors.Is(err, os.ErrDeadlineExceeded))
	for _, e := range server.Events() {
		fmt.Println(e.Kind, "at byte", e.Byte)
	}

	stall.Remove() // the client reads again
	m, _ := io.ReadFull(client, make([]byte, n))
	fmt.Println("client read:", m)
	// Output:
	// written: 65536 timeout: true
	// buffer-full at byte 65536
	// client read: 65536
}

// CloseWrite sends a FIN: the peer reads the data, then io.EOF, and can
// still answer.
func Example_halfClose() {
	client, server := faultnet.Pipe()
	defer client.Close()
	defer server.Close()

	client.Write([]byte("request"))
	client.CloseWrite()

	req, err := io.ReadAll(server)
	fmt.Printf("server got %q, err %v\n", req, err)
	server.Write([]byte("response"))
	server.CloseWrite()

	resp, _ := io.ReadAll(client)
	fmt.Printf("client got %q\n", resp)
	_, err = client.Write([]byte("more"))
	fmt.Println("write after CloseWrite:", errors.Is(err, syscall.EPIPE))
	// Output:
	// server got "request", err <nil>
	// client got "response"
	// write after CloseWrite: true
}

// A reset: both ends fail with ECONNRESET, as after a TCP RST. Scheduled
// after N bytes, it is a data limit.
func Example_reset() {
	client, server := faultnet.Pipe()
	defer client.Close()
	defer server.Close()

	client.Inject(faultnet.AfterWritten(10, faultnet.Reset()))
	n, err := client.Write(make([]byte, 100))
	fmt.Println("client wrote", n, "then:", errors.Is(err, syscall.ECONNRESET))

	_, err = server.Read(make([]byte, 100))
	var op *net.OpError
	fmt.Println("server:", errors.As(err, &op), errors.Is(err, syscall.ECONNRESET))
	fmt.Println(err.(*net.OpError).Err)
	// Output:
	// client wrote 10 then: true
	// server: true true
	// read: connection reset by peer
}

// Accept errors: the next k Accepts fail with a Temporary EMFILE error,
// the one a server must back off from and survive.
func Example_acceptErrors() {
	ln := faultnet.Listen()
	defer ln.Close()

	client, _ := ln.Dial(context.Background()) // waits in the backlog
	defer client.Close()

	ln.FailAccepts(2)
	for range 3 {
		c, err := ln.Accept()
		var ne net.Error
		//lint:ignore SA1019 Temporary is what servers test to survive EMFILE.
		if errors.As(err, &ne) && ne.Temporary() {
			fmt.Println("temporary:", errors.Is(err, syscall.EMFILE))
			continue
		}
		fmt.Println("accepted:", c.RemoteAddr() == client.LocalAddr())
		c.Close()
	}
	// Output:
	// temporary: true
	// temporary: true
	// accepted: true
}

// Faults print as the calls that made them, so a failing schedule reads well.
func ExampleFault() {
	fmt.Println(faultnet.Latency(20*time.Millisecond, 5*time.Millisecond))
	fmt.Println(faultnet.AfterWritten(65536, faultnet.Reset()))
	fmt.Println(faultnet.OnTrigger(faultnet.NewTrigger("vote-10"), faultnet.StallReads()))
	// Output:
	// Latency(20ms, 5ms)
	// AfterWritten(65536, Reset())
	// OnTrigger(vote-10, StallReads())
}
