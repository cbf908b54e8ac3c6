package faultnet_test

import (
	"io"
	"net"
	"testing"

	"github.com/stallproof/stallproof/faultnet"
)

// BenchmarkSpliceNagleServer: request-reply rounds through a splice to a
// loopback server that leaves Nagle's algorithm on and answers each
// one-byte request with four small writes, as mosquitto pushes
// messages. With the splice's quick acknowledgements ("quickack") a
// round costs what the work costs; with the kernel's delayed ones
// ("delayed") the server's last write waits out the delayed-ACK timer.
// Run side by side:
//
//	go test -run '^$' -bench SpliceNagleServer -count 6 ./faultnet/
func BenchmarkSpliceNagleServer(b *testing.B) {
	for _, mode := range []struct {
		name  string
		quick bool
	}{{"quickack", true}, {"delayed", false}} {
		b.Run(mode.name, func(b *testing.B) {
			defer faultnet.SetQuickAcks(mode.quick)()
			client := nagleServer(b)
			req, reply := []byte{'?'}, make([]byte, 4*nagleWrite)
			b.ResetTimer()
			for range b.N {
				if _, err := client.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(client, reply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// nagleWrite is the size of each of the server's small writes.
const nagleWrite = 30

// nagleServer starts a loopback server with Nagle's algorithm on that
// answers each byte it reads with four writes of nagleWrite bytes, and
// returns an in-memory client spliced to a connection to it (spliced).
func nagleServer(b *testing.B) *faultnet.Conn {
	b.Helper()
	client, server, _ := spliced(b)
	s := server.(*net.TCPConn)
	if err := s.SetNoDelay(false); err != nil {
		b.Fatal(err)
	}
	go func() {
		one, msg := make([]byte, 1), make([]byte, nagleWrite)
		for {
			if _, err := s.Read(one); err != nil {
				return
			}
			for range 4 {
				if _, err := s.Write(msg); err != nil {
					return
				}
			}
		}
	}()
	return client
}
