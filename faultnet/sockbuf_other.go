//go:build !unix

package faultnet

import "syscall"

// SocketBufferControl returns nil where the buffers cannot be set before
// connecting: shrink them after, with SetSocketBufferSize.
func SocketBufferControl(int) func(network, address string, c syscall.RawConn) error { return nil }
