package properties_test

import (
	"context"
	"net"
	"testing"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/server"
)

// Copy this into a _test.go file of your server's package, with your
// server in place of the reference one.
func ExampleRun() {
	TestMyServer := func(t *testing.T) {
		properties.Run(t, func(ctx context.Context, ln net.Listener) error {
			srv, err := server.New(server.Config{})
			if err != nil {
				return err
			}
			return srv.Serve(ctx, ln)
		})
	}
	_ = TestMyServer
}
