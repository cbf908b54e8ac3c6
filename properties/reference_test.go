package properties_test

import (
	"context"
	"net"
	"testing"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/server"
)

// reference serves the reference server with its default configuration.
func reference(ctx context.Context, ln net.Listener) error {
	s, err := server.New(server.Config{})
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

func TestReference(t *testing.T) {
	properties.Run(t, reference)
}
