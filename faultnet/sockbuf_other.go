//go:build !unix

package faultnet

import "syscall"

// PresetBuffers returns nil where the buffers cannot be set before
// connecting: shrink them after, with ShrinkBuffers.
func PresetBuffers(int) func(network, address string, c syscall.RawConn) error { return nil }
