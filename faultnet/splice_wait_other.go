//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package faultnet

import "syscall"

const canWaitReadable = false

type readWaiter struct{}

func newReadWaiter(syscall.RawConn, func()) *readWaiter { return &readWaiter{} }

func (*readWaiter) wait() syscall.Errno { return 0 }
