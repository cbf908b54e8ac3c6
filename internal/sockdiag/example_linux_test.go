package sockdiag_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/stallproof/stallproof/internal/sockdiag"
)

// A server writes to a client that does not read; the watcher sees the
// server's side of the connection block.
func Example() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	client, _ := net.Dial("tcp", ln.Addr().String())
	defer client.Close()
	server, _ := ln.Accept()
	defer server.Close()
	done := make(chan struct{})
	go func() { // the server: writes until its writes fail
		defer close(done)
		chunk := make([]byte, 64<<10)
		for {
			if _, err := server.Write(chunk); err != nil {
				return
			}
		}
	}()

	diag, err := sockdiag.Open()
	if err != nil {
		fmt.Println(err) // sockdiag.ErrUnsupported: push a guessed amount instead
		return
	}
	defer diag.Close()
	local, remote := sockdiag.ServerSide(client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := diag.WaitWriteBlocked(ctx, local, remote, 0)
	fmt.Println(err, s.WriteBlocked(), s.SendQueue > 0)

	server.Close() // unblocks the writer
	<-done
	// Output: <nil> true true
}

// A server in another process (serverPID) is about to write to a client
// that will stop reading: shrink its send buffer first, so that its writes
// block after kilobytes rather than megabytes. (No output: it needs ptrace
// rights over the server's process.)
func ExampleShrinkSendBuffer() {
	const serverPID = 4242 // e.g. exec.Cmd.Process.Pid; 0 searches /proc
	client, err := net.Dial("tcp", "127.0.0.1:9000")
	if err != nil {
		return
	}
	defer client.Close()
	diag, err := sockdiag.Open()
	if err != nil {
		return // sockdiag.ErrUnsupported: not Linux
	}
	defer diag.Close()
	s, err := diag.Lookup(sockdiag.ServerSide(client))
	if err != nil || s.Inode == 0 {
		return // not accepted yet: look again after the server's Accept
	}
	if _, err := sockdiag.ShrinkSendBuffer(s, 16<<10, serverPID); err != nil {
		fmt.Println(err) // wraps syscall.EPERM without ptrace rights
	}
}
