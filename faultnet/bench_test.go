package faultnet_test

import (
	"io"
	"net"
	"testing"

	"github.com/stallproof/stallproof/faultnet"
)

// Run side by side:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./faultnet/
//
// Goals: faultnet.Pipe ≥ 2× net.Pipe throughput; Wrap with no faults within
// 5% of raw loopback TCP for round trip and throughput; 0 allocs per op.

var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"32KiB", 32 << 10}}

type pairMaker struct {
	name string
	make func(b *testing.B) (net.Conn, net.Conn)
}

func memPipe(b *testing.B) (net.Conn, net.Conn) {
	c, s := faultnet.Pipe()
	b.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func stdPipe(b *testing.B) (net.Conn, net.Conn) {
	c, s := net.Pipe()
	b.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func rawTCP(b *testing.B) (net.Conn, net.Conn) {
	c, s := rawTCPPair(b)
	return c, s
}

func wrappedTCP(b *testing.B) (net.Conn, net.Conn) {
	c, s := rawTCPPair(b)
	return faultnet.Wrap(c), faultnet.Wrap(s)
}

// benchThroughput streams b.N writes of n bytes from one end to the other.
func benchThroughput(b *testing.B, c, s net.Conn, n int) {
	b.ReportAllocs()
	b.SetBytes(int64(n))
	total := int64(b.N) * int64(n)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 32<<10)
		var got int64
		for got < total {
			k, err := s.Read(buf)
			got += int64(k)
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	msg := make([]byte, n)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// benchRoundTrip sends n bytes and waits for them to be echoed back.
func benchRoundTrip(b *testing.B, c, s net.Conn, n int) {
	b.ReportAllocs()
	go func() {
		buf := make([]byte, n)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, n)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c.Close()
	s.Close()
}

func BenchmarkPipeThroughput(b *testing.B) {
	for _, size := range benchSizes {
		for _, pm := range []pairMaker{{"faultnet", memPipe}, {"netpipe", stdPipe}} {
			b.Run(size.name+"/"+pm.name, func(b *testing.B) {
				c, s := pm.make(b)
				benchThroughput(b, c, s, size.n)
			})
		}
	}
}

func BenchmarkTCPThroughput(b *testing.B) {
	for _, size := range benchSizes {
		for _, pm := range []pairMaker{{"wrapped", wrappedTCP}, {"raw", rawTCP}} {
			b.Run(size.name+"/"+pm.name, func(b *testing.B) {
				c, s := pm.make(b)
				benchThroughput(b, c, s, size.n)
			})
		}
	}
}

func BenchmarkTCPRoundTrip(b *testing.B) {
	for _, n := range []int{1, 64} {
		for _, pm := range []pairMaker{{"wrapped", wrappedTCP}, {"raw", rawTCP}} {
			b.Run(pm.name+"/"+map[int]string{1: "1B", 64: "64B"}[n], func(b *testing.B) {
				c, s := pm.make(b)
				benchRoundTrip(b, c, s, n)
			})
		}
	}
}

func BenchmarkPipeRoundTrip(b *testing.B) {
	for _, pm := range []pairMaker{{"faultnet", memPipe}, {"netpipe", stdPipe}} {
		b.Run(pm.name+"/64B", func(b *testing.B) {
			c, s := pm.make(b)
			benchRoundTrip(b, c, s, 64)
		})
	}
}

// TestNoAllocsOnFastPath: a Write and a Read with no fault active allocate
// nothing, in memory and through Wrap.
func TestNoAllocsOnFastPath(t *testing.T) {
	cases := []struct {
		name string
		pair func(t testing.TB) (net.Conn, net.Conn)
	}{
		{"pipe", func(t testing.TB) (net.Conn, net.Conn) { return memoryPair(t) }},
		{"wrap", func(t testing.TB) (net.Conn, net.Conn) {
			c, s := rawTCPPair(t)
			return faultnet.Wrap(c), faultnet.Wrap(s)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, s := tc.pair(t)
			wbuf, rbuf := make([]byte, 512), make([]byte, 512)
			var err error
			step := func() {
				if _, err = c.Write(wbuf); err != nil {
					return
				}
				_, err = io.ReadFull(s, rbuf)
			}
			step() // warm up: the in-memory buffer grows once
			allocs := testing.AllocsPerRun(200, step)
			if err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Errorf("%v allocs per Write+Read, want 0", allocs)
			}
		})
	}
}

// nullConn reads and writes nothing, instantly: what is left of a
// benchmark through it is the wrapper's own cost.
type nullConn struct{ net.Conn }

func (nullConn) Read(p []byte) (int, error)  { return len(p), nil }
func (nullConn) Write(p []byte) (int, error) { return len(p), nil }
func (nullConn) LocalAddr() net.Addr         { return &net.TCPAddr{} }
func (nullConn) RemoteAddr() net.Addr        { return &net.TCPAddr{} }
func (nullConn) Close() error                { return nil }

// BenchmarkWrapOverhead measures the cost Wrap adds to a Write+Read with no
// fault active, apart from any real I/O (whose noise hides it on loopback).
func BenchmarkWrapOverhead(b *testing.B) {
	for _, tc := range []struct {
		name string
		c    net.Conn
	}{{"raw", nullConn{}}, {"wrapped", faultnet.Wrap(nullConn{})}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 64)
			for range b.N {
				tc.c.Write(buf)
				tc.c.Read(buf)
			}
		})
	}
}
