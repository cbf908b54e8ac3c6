//go:build !linux

package faultnet

import (
	"net"
	"syscall"
)

const canWatch = false

func probeSocket(uintptr) sockState { return sockState{} }

type farSocket struct{}

func newFarSocket(net.Addr, net.Addr, syscall.RawConn) farSocket { return farSocket{} }

func (*farSocket) closed() bool { return false }
