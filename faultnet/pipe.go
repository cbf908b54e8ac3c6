package faultnet

import (
	"fmt"
	"net"
	"sync/atomic"
)

// ports hands out the fake port numbers of in-memory addresses.
var ports atomic.Uint32

func nextAddr() *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 20000 + int(ports.Add(1)%40000)}
}

var pipeCount atomic.Uint64

// Pipe returns the two ends of an in-memory connection. Unlike net.Pipe,
// each direction is buffered like TCP (BufferSize, default 64 KiB), so a
// Write returns once its bytes are buffered and blocks only when the reader
// has fallen a whole buffer behind; either end can half-close; and errors
// look like a TCP socket's. The ends have 127.0.0.1 addresses.
func Pipe(opts ...Option) (client, server *Conn) {
	cfg := newConfig(opts)
	n := pipeCount.Add(1)
	name := cfg.name
	if name == "" {
		name = fmt.Sprintf("pipe%d", n)
	}
	// The stream numbers do not depend on how many pipes the process made
	// before, so the same Seed replays the same draws in any test order.
	client, server = newPair(&cfg, name, 0, nextAddr(), nextAddr())
	for _, f := range cfg.faults {
		client.Inject(f)
	}
	return client, server
}

// newPair connects two in-memory ends. The client's stream index is 2n, the
// server's 2n+1, so each has its own seeded randomness.
func newPair(cfg *config, name string, n uint64, caddr, saddr net.Addr) (client, server *Conn) {
	up, down := newStream(cfg.bufSize), newStream(cfg.bufSize)
	client = &Conn{in: down, out: up}
	server = &Conn{in: up, out: down}
	client.peer, server.peer = server, client
	client.init(name+"/client", caddr, saddr, cfg, 2*n)
	server.init(name+"/server", saddr, caddr, cfg, 2*n+1)
	return client, server
}
