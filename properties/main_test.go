package properties_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/properties/mutants"
)

// serveEnv makes the test binary a server in another process, for
// RunExec: "reference" or a mutant's name, served on $ADDR until SIGTERM.
const serveEnv = "STALLPROOF_SERVE"

func TestMain(m *testing.M) {
	if name := os.Getenv(serveEnv); name != "" {
		os.Exit(serveOnAddr(name))
	}
	goleak.VerifyTestMain(m)
}

// serveOnAddr serves the named server on $ADDR until SIGTERM.
func serveOnAddr(name string) int {
	serve := reference
	if name != "reference" {
		m, ok := mutants.Lookup(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "no mutant %q\n", name)
			return 2
		}
		serve = m.Serve
	}
	ln, err := net.Listen("tcp", os.Getenv("ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
