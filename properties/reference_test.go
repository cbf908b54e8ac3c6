package properties_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/server"
)

// reference serves the reference server with its default configuration,
// but for a short drain on shutdown: every check ends with one, often with
// stalled clients that would hold it for the whole default second.
func reference(ctx context.Context, ln net.Listener) error {
	s, err := server.New(server.Config{DrainTimeout: 100 * time.Millisecond})
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

func TestReference(t *testing.T) {
	properties.Run(t, reference)
}

func TestReferenceLoopbackTCP(t *testing.T) {
	properties.Run(t, reference, properties.WithTransport(properties.LoopbackTCP), properties.Checks(5))
}

func TestReferenceVirtualTime(t *testing.T) {
	properties.Run(t, reference, properties.VirtualTime())
}
