package netns_test

import (
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/stallproof/stallproof/internal/harness"
	"go.uber.org/goleak"
)

// childEnv makes the test binary a child server: with "echo", it echoes
// on $ADDR until it is killed.
const childEnv = "NETNS_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "echo" {
		os.Exit(echo(os.Getenv("ADDR")))
	}
	harness.NoRaceExitPause()
	goleak.VerifyTestMain(m)
}

func echo(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}
