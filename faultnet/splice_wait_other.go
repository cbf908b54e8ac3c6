//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package faultnet

import "syscall"

const canWaitReadable = false

func waitReadable(syscall.RawConn, func()) (syscall.Errno, error) { return 0, nil }
