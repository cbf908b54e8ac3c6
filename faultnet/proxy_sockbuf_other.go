//go:build !unix

package faultnet

import "syscall"

// presetBuffers is nil where the buffers cannot be set before connecting:
// the proxy shrinks them after (ShrinkBuffers).
func presetBuffers(int) func(network, address string, c syscall.RawConn) error { return nil }
