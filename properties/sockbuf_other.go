//go:build !unix

package properties

import "syscall"

// smallBuffers is nil where the suite cannot set socket options before a
// connect: the connection's buffers are shrunk after it (see RunAddr).
func smallBuffers(int) func(network, address string, c syscall.RawConn) error { return nil }
