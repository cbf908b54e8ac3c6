//go:build linux

package faultnet

import (
	"sync/atomic"
	"syscall"
)

// quickAcks says whether a splice acknowledges what it reads from a TCP
// socket at once (see quickAck); off only in a benchmark that compares.
var quickAcks atomic.Bool

func init() { quickAcks.Store(true) }

// quickAck asks the kernel to acknowledge the next data that arrives on
// socket fd at once (TCP_QUICKACK), not after its delayed-ACK timer, and
// to send an acknowledgement that is pending now. A splice calls it after
// each read(2) that returned data, because the option does not last.
//
// Without it, a splice reading a server that leaves Nagle's algorithm on
// (mosquitto does) costs the server up to 40 ms per burst of small
// writes: the server holds its last small segment until the previous
// one is acknowledged, and the kernel delays that acknowledgement,
// hoping to carry it on data the splice never sends. The suite's pressure
// phase, 874 rounds of 200 requests through mosquitto, took 35 s so; a
// real client has the same delay, but it only slows the suite down.
func quickAck(fd uintptr) {
	if quickAcks.Load() {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	}
}
