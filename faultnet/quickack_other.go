//go:build !linux

package faultnet

import "sync/atomic"

var quickAcks atomic.Bool

// quickAck is Linux's TCP_QUICKACK (see quickack_linux.go); elsewhere a
// splice leaves the kernel's delayed acknowledgements as they are.
func quickAck(uintptr) {}
