package faultnet_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/proxybench"
)

// The proxy against direct loopback, side by side in one run:
//
//	go test -run '^$' -bench 'Proxy' -count 6 ./faultnet/
//
// Goals: round trip ≤ 1.2× direct and at plain-io.Copy's (a plain Go proxy
// with the same socket buffers: the floor for a proxy in Go); throughput at
// 32 KiB writes ≥ 0.8× direct; ≤ 16 KiB per idle proxied connection (B/conn of faultnet-proxy
// minus direct). bench/toxiproxy runs the same benchmarks with toxiproxy
// added.

var proxyKinds = []proxybench.Kind{
	proxybench.Direct,
	proxybench.Faultnet("faultnet-proxy"),
	proxybench.PlainCopy,
	proxybench.Faultnet("faultnet-proxy-kernel-buffers", faultnet.ProxySocketBufferSize(0)),
}

func BenchmarkProxyRTT64B(b *testing.B) {
	for _, k := range proxyKinds {
		b.Run(k.Name, func(b *testing.B) { proxybench.RTT(b, k, 64) })
	}
}

func BenchmarkProxyThroughput32KiB(b *testing.B) {
	for _, k := range proxyKinds {
		b.Run(k.Name, func(b *testing.B) { proxybench.Throughput(b, k, 32<<10) })
	}
}

// BenchmarkProxyDownload1KiB: a server streaming to the client in 1 KiB
// writes (the shape that exposed the splice's stalls), 16 MiB a run.
func BenchmarkProxyDownload1KiB(b *testing.B) {
	for _, k := range proxyKinds {
		b.Run(k.Name, func(b *testing.B) { proxybench.Download(b, k, 16<<20, 1<<10) })
	}
}

func BenchmarkProxyIdleConns1000(b *testing.B) {
	for _, k := range proxyKinds[:3] {
		b.Run(k.Name, func(b *testing.B) { proxybench.IdleConnBytes(b, k, 1000) })
	}
}

// BenchmarkStallAbsorbed: the bytes a stalled client absorbs before the
// server's Write blocks (the "bytes" metric; 67108864 means it never
// blocked). The server's own socket send buffer counts: on Linux it grows
// to tcp_wmem's maximum (4 MiB) unless the server shrinks it.
func BenchmarkStallAbsorbed(b *testing.B) {
	const kb = faultnet.DefaultProxySocketBufferSize
	proxy := proxyKinds[1]
	b.Run("faultnet-memory", proxybench.StallAbsorbedMemory)
	for _, c := range []struct {
		name string
		st   proxybench.Stall
	}{
		{"loopback-raw", proxybench.Stall{Kind: proxybench.Direct}},
		{"loopback-client-32KiB", proxybench.Stall{Kind: proxybench.Direct, ClientBuf: kb}},
		{"loopback-both-32KiB", proxybench.Stall{Kind: proxybench.Direct, ClientBuf: kb, ServerBuf: kb}},
		{"faultnet-proxy-StallReads", proxybench.Stall{Kind: proxy, Proxy: true}},
		{"faultnet-proxy-StallReads-server-32KiB", proxybench.Stall{Kind: proxy, Proxy: true, ServerBuf: kb}},
		{"faultnet-proxy-client-stops", proxybench.Stall{Kind: proxy}},
		{"faultnet-proxy-client-stops-all-32KiB", proxybench.Stall{Kind: proxy, ClientBuf: kb, ServerBuf: kb}},
	} {
		b.Run(c.name, func(b *testing.B) { proxybench.StallAbsorbed(b, c.st) })
	}
}

// BenchmarkLoopbackShrunk: throughput of loopback TCP at 32 KiB writes with
// the socket buffers of both sockets shrunk, after the connection is made (as
// SetSocketBufferSize and SocketBufferSize do) or before (as faultnet.Proxy does).
// Shrunk after, to 8 KiB or less, the window falls below one loopback
// segment (64 KiB) and bulk transfers crawl: about a minute per run, so
// those sizes run only with STALLPROOF_BENCH_CRAWL=1.
func BenchmarkLoopbackShrunk(b *testing.B) {
	for _, when := range []string{"after", "before"} {
		for _, n := range []int{4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", when, n>>10), func(b *testing.B) {
				if when == "after" && n <= 8<<10 && os.Getenv("STALLPROOF_BENCH_CRAWL") == "" {
					b.Skip("crawls: about a minute per run; set STALLPROOF_BENCH_CRAWL=1")
				}
				proxybench.ThroughputShrunk(b, n, 32<<10, when == "before")
			})
		}
	}
}
