package sockdiag

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/stallproof/stallproof/internal/harness"
	"go.uber.org/goleak"
)

// childEnv, when set, makes the test binary the server of the
// cross-process tests instead of running tests (see childServer).
const childEnv = "SOCKDIAG_TEST_CHILD_SERVER"

// childDialEnv, when set as well, is an address the child server dials
// before it listens, and keeps connected: a relay's connection to the
// server behind it.
const childDialEnv = "SOCKDIAG_TEST_CHILD_DIAL"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childServer()
		os.Exit(0)
	}
	harness.NoRaceExitPause()
	goleak.VerifyTestMain(m)
}

// childServer listens on 127.0.0.1, prints its address, and on each
// connection waits for one byte, then writes to it until a write fails.
// It exits when its stdin closes (its parent is gone or done).
func childServer() {
	if addr := os.Getenv(childDialEnv); addr != "" {
		upstream, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println("dial:", err)
			return
		}
		defer upstream.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return
	}
	fmt.Println(ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		os.Exit(0)
	}()
	chunk := make([]byte, 16<<10)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if _, err := c.Read(make([]byte, 1)); err != nil {
				return
			}
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
	}
}
