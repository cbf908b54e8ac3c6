//go:build !unix

package proxybench

import "syscall"

func presetBuffers(int) func(network, address string, c syscall.RawConn) error { return nil }
