package harness

import (
	"fmt"
	"net"
	"runtime"

	"github.com/stallproof/stallproof/faultnet"
)

// DefaultSocketBufferSize is the size of the socket buffers, in bytes, of
// loopback TCP connections made by Listen: small, so that a client that
// stops reading stalls the server's writes after kilobytes, not the
// megabytes a loopback socket absorbs by default.
const DefaultSocketBufferSize = 4096

// Network is where a server under test listens: faultnet's in-memory
// network (the default), or real loopback TCP.
type Network struct {
	// TCP listens on 127.0.0.1 with an ephemeral port, each connection's
	// socket buffers cut to SocketBufferSize bytes (DefaultSocketBufferSize if 0).
	TCP              bool
	SocketBufferSize int
	// BufferSize is the in-memory network's buffer per direction
	// (faultnet.DefaultBufferSize if 0).
	BufferSize int
	// Options are given to the listener as well (Name, OnAccept, ...).
	Options []faultnet.Option
}

// Listen returns a listener on the network. Only the TCP one can fail.
func Listen(n Network) (*faultnet.Listener, error) {
	opts := n.Options
	if n.TCP {
		kb := n.SocketBufferSize
		if kb <= 0 {
			kb = DefaultSocketBufferSize
		}
		return faultnet.ListenTCP("127.0.0.1:0", append([]faultnet.Option{faultnet.SocketBufferSize(kb)}, opts...)...)
	}
	if n.BufferSize > 0 {
		opts = append([]faultnet.Option{faultnet.BufferSize(n.BufferSize)}, opts...)
	}
	return faultnet.Listen(opts...), nil
}

// Describe says what the network is, for reports: "in-memory (faultnet)"
// or "loopback TCP, socket buffers 4096 B".
func (n Network) Describe() string {
	if !n.TCP {
		return "in-memory (faultnet)"
	}
	kb := n.SocketBufferSize
	if kb <= 0 {
		kb = DefaultSocketBufferSize
	}
	return fmt.Sprintf("loopback TCP, socket buffers %d B", kb)
}

// HeapAfterGC forces two garbage collections and returns the live heap,
// in bytes. The second frees what a sync.Pool kept through the first (its
// victim cache): buffers a splice or the server let go of a moment ago.
func HeapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// CheckLoopback returns an error unless addr is host:port with host a
// loopback IP address (127.0.0.0/8, ::1) or "localhost": load and faults
// go only to servers on this machine.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("address %q is not a loopback address (127.0.0.0/8, ::1 or localhost)", addr)
}
