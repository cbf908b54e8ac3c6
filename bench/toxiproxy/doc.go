// Package toxiproxy is a benchmark-only module: it runs faultnet's proxy
// benchmarks (internal/proxybench) with Shopify's toxiproxy, in process,
// beside the direct path and faultnet.Proxy, so the three are measured in
// one run on the same machine. It is a separate module so that the
// stallproof module does not depend on toxiproxy.
//
//	cd bench/toxiproxy && go test -run '^$' -bench . -count 6
package toxiproxy
