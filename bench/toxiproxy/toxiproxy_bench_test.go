package toxiproxy_test

import (
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/collectors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/proxybench"
)

// toxi is toxiproxy v2 run in process, with no toxic; its Stall adds the
// timeout toxic (timeout 0) downstream, toxiproxy's way to stop data.
var toxi = proxybench.Kind{Name: "toxiproxy", Start: func(tb testing.TB, up string) proxybench.Running {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	srv.Metrics.ProxyMetrics = collectors.NewProxyMetricCollectors()
	p := toxiproxy.NewProxy(srv, "bench", "127.0.0.1:0", up)
	if err := p.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	return toxiRunning{p}
}}

type toxiRunning struct{ p *toxiproxy.Proxy }

func (t toxiRunning) Addr() string { return t.p.Listen }

func (t toxiRunning) Stall(tb testing.TB) bool {
	_, err := t.p.Toxics.AddToxicJson(strings.NewReader(`{"type": "timeout", "stream": "downstream", "attributes": {"timeout": 0}}`))
	if err != nil {
		tb.Fatal(err)
	}
	return true
}

var kinds = []proxybench.Kind{proxybench.Direct, proxybench.Faultnet("faultnet-proxy"), toxi}

func BenchmarkProxyRTT64B(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.Name, func(b *testing.B) { proxybench.RTT(b, k, 64) })
	}
}

func BenchmarkProxyThroughput32KiB(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.Name, func(b *testing.B) { proxybench.Throughput(b, k, 32<<10) })
	}
}

func BenchmarkProxyIdleConns1000(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.Name, func(b *testing.B) { proxybench.IdleConnBytes(b, k, 1000) })
	}
}

// BenchmarkStallAbsorbed: bytes the server writes before its Write blocks
// when the proxy is told to stop the data (67108864: it never blocked).
func BenchmarkStallAbsorbed(b *testing.B) {
	const kb = faultnet.DefaultProxySocketBufferSize
	for _, k := range kinds[1:] {
		b.Run(k.Name, func(b *testing.B) { proxybench.StallAbsorbed(b, proxybench.Stall{Kind: k, Proxy: true}) })
		b.Run(k.Name+"-server-32KiB", func(b *testing.B) {
			proxybench.StallAbsorbed(b, proxybench.Stall{Kind: k, Proxy: true, ServerBuf: kb})
		})
	}
}
