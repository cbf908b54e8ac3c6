//go:build linux

package netns_test

import (
	"context"
	"fmt"

	"github.com/stallproof/stallproof/internal/netns"
)

// Start a server in a namespace of its own, reach it, and stop it: what
// properties.RunExec and a proxy in front of a command need. (No output
// is checked: it needs root.)
func ExampleStart() {
	srv, err := netns.Start(context.Background(), []string{"python3", "-m", "http.server", "--bind", "127.0.0.1", "{port}"}, netns.DefaultSocketBufferSize)
	if err != nil {
		fmt.Println(err) // says the remedy when namespaces cannot be made
		return
	}
	defer srv.Stop()
	c, err := srv.Dial(context.Background(), nil) // from inside the namespace
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println(srv, "listens on", srv.Addr())
}
