package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/proxybench"
)

// The control API speaks toxiproxy's language where it can: streams named
// upstream and downstream, named faults removable by name, a reset of every
// fault, faults posted as they are shown.

// startProxy runs "stallproof proxy" to upstream with the control API, and
// returns the proxy's address and the API's URL.
func startProxy(t *testing.T, upstream string, args ...string) (addr, ctl string) {
	t.Helper()
	attrs, _ := background(t, append([]string{"proxy", "-listen", "127.0.0.1:0", "-upstream", upstream,
		"-control", "127.0.0.1:0"}, args...), "addr", "control")
	return attrs["addr"], attrs["control"]
}

// oneConn dials the proxy, waits until the API lists the connection and
// returns it with the client's end.
func oneConn(t *testing.T, addr, ctl string) (net.Conn, map[string]any) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		var conns []map[string]any
		api(t, "GET", ctl+"/conns", "", &conns)
		if len(conns) == 1 {
			return c, conns[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /conns: %v after a client connected", conns)
		}
		time.Sleep(time.Millisecond) // polling the proxy's list
	}
}

func TestProxyAPIConnsShowTheAddressTheServerSees(t *testing.T) {
	up := proxybench.NewUpstream(t, nil)
	addr, ctl := startProxy(t, up.Addr())
	up.Accepted(t) // the proxy's probe at start
	c, conn := oneConn(t, addr, ctl)
	s := up.Accepted(t)
	if conn["client"] != c.LocalAddr().String() || conn["upstream_local"] != s.RemoteAddr().String() {
		t.Fatalf("GET /conns: client %v, upstream_local %v; want %v (the client) and %v (as the server sees it)",
			conn["client"], conn["upstream_local"], c.LocalAddr(), s.RemoteAddr())
	}
	var stats map[string]any
	if api(t, "GET", ctl+"/stats", "", &stats); stats["goroutines"] == nil || stats["goroutines"].(float64) < 2 {
		t.Fatalf("GET /stats: goroutines %v", stats["goroutines"])
	}
}

func TestProxyAPIStreams(t *testing.T) {
	addr, ctl := startProxy(t, echoServer(t))
	for _, tc := range []struct{ stream, fault, leg string }{
		{"downstream", `{"kind": "stall_reads"}`, "upstream"}, // the proxy stops reading the server
		{"upstream", `{"kind": "stall_reads"}`, "client"},     // ... the client
		{"upstream", `{"kind": "latency", "delay": "1ms"}`, "upstream"},
		{"downstream", `{"kind": "latency", "delay": "1ms"}`, "client"},
		{"downstream", `{"kind": "close_write"}`, "client"}, // FIN to the client
		{"downstream", `{"kind": "after_read", "bytes": 10, "then": {"kind": "reset"}}`, "upstream"},
		{"downstream", `{"kind": "after_time", "after": "1h", "then": {"kind": "short_reads", "bytes": 1}}`, "upstream"},
	} {
		var f apiFaultJSON
		body := fmt.Sprintf(`{"stream": %q, "fault": %s}`, tc.stream, tc.fault)
		if st := api(t, "POST", ctl+"/faults", body, &f); st != 201 || f.Leg != tc.leg || f.Stream != tc.stream {
			t.Errorf("POST %s: %d, leg %q stream %q; want the %s leg", body, st, f.Leg, f.Stream, tc.leg)
		}
		// The old form, by leg, gives the stream back.
		var g apiFaultJSON
		body = fmt.Sprintf(`{"leg": %q, "fault": %s}`, tc.leg, tc.fault)
		if st := api(t, "POST", ctl+"/faults", body, &g); st != 201 || g.Stream != tc.stream {
			t.Errorf("POST %s: %d, stream %q; want %q", body, st, g.Stream, tc.stream)
		}
	}
	// Each went where it says: a new connection has them on those legs.
	_, conn := oneConn(t, addr, ctl)
	legs := conn["legs"].(map[string]any)
	if n := len(legs["upstream"].(map[string]any)["faults"].([]any)); n != 8 {
		t.Errorf("the upstream leg has %d faults, want 8: %v", n, legs)
	}
}

func TestProxyAPINamedFaults(t *testing.T) {
	_, ctl := startProxy(t, echoServer(t))
	var a, b, named apiFaultJSON
	api(t, "POST", ctl+"/faults", `{"stream": "downstream", "fault": {"kind": "latency", "delay": "5ms"}}`, &a)
	api(t, "POST", ctl+"/faults", `{"stream": "downstream", "fault": {"kind": "latency", "delay": "6ms"}}`, &b)
	api(t, "POST", ctl+"/faults", `{"name": "slow.server", "stream": "downstream", "fault": "Latency(7ms)"}`, &named)
	if a.Name != "latency_downstream" || b.Name != "latency_downstream_2" || named.Name != "slow.server" || named.Call != "Latency(7ms, 0s)" {
		t.Fatalf("names: %q %q %q (%s)", a.Name, b.Name, named.Name, named.Call)
	}
	if st := apiRaw(t, "POST", ctl+"/faults", `{"name": "slow.server", "stream": "upstream", "fault": {"kind": "reset"}}`); st.status != 409 || !strings.Contains(st.body, "is in place") {
		t.Fatalf("a second fault named slow.server: %d %s", st.status, st.body)
	}
	var got apiFaultJSON
	if st := api(t, "GET", ctl+"/faults/slow.server", "", &got); st != 200 || got.ID != named.ID {
		t.Fatalf("GET /faults/slow.server: %d %+v", st, got)
	}
	if st := api(t, "DELETE", ctl+"/faults/slow.server", "", nil); st != 200 {
		t.Fatalf("DELETE by name: %d", st)
	}
	if st := api(t, "DELETE", fmt.Sprintf("%s/faults/%d", ctl, a.ID), "", nil); st != 200 {
		t.Fatalf("DELETE by number: %d", st)
	}
	var list []apiFaultJSON
	if api(t, "GET", ctl+"/faults", "", &list); len(list) != 1 || list[0].Name != "latency_downstream_2" {
		t.Fatalf("GET /faults after two DELETEs: %+v", list)
	}
}

func TestProxyAPIPostsWhatItShows(t *testing.T) {
	_, ctl := startProxy(t, echoServer(t))
	var shown map[string]any
	api(t, "POST", ctl+"/faults", `{"name": "x", "stream": "downstream", "fault": {"kind": "after_written", "bytes": 100, "then": {"kind": "latency", "delay": "250ms"}}}`, &shown)
	api(t, "DELETE", ctl+"/faults/x", "", nil)
	body, _ := json.Marshal(shown)
	var again map[string]any
	if st := api(t, "POST", ctl+"/faults", string(body), &again); st != 201 {
		t.Fatalf("POST of the form GET shows, %s: %d %v", body, st, again)
	}
	delete(shown, "id")
	delete(again, "id")
	if fmt.Sprint(shown) != fmt.Sprint(again) {
		t.Fatalf("posted back:\n%v\nshown as\n%v", shown, again)
	}
}

func TestProxyAPIResetRemovesEveryFault(t *testing.T) {
	addr, ctl := startProxy(t, echoServer(t), "-fault", "client:ShortWrites(1)")
	_, conn := oneConn(t, addr, ctl)
	id := conn["id"].(float64)
	api(t, "POST", ctl+"/faults", fmt.Sprintf(`{"conn": %v, "stream": "upstream", "fault": {"kind": "latency", "delay": "1ms"}}`, id), nil)
	api(t, "POST", ctl+"/faults", `{"stream": "upstream", "fault": {"kind": "reset"}}`, nil)
	var removed map[string]int
	if st := api(t, "POST", ctl+"/reset", "", &removed); st != 200 || removed["removed"] != 3 {
		t.Fatalf("POST /reset: %d %v; want 3 removed", st, removed)
	}
	var list []apiFaultJSON
	if api(t, "GET", ctl+"/faults", "", &list); len(list) != 0 {
		t.Fatalf("GET /faults after the reset: %+v", list)
	}
	var one map[string]any
	api(t, "GET", fmt.Sprintf("%s/conns/%v", ctl, id), "", &one)
	if legs := fmt.Sprint(one["legs"]); strings.Contains(legs, "Latency") {
		t.Fatalf("connection %v still has its fault after the reset: %s", id, legs)
	}
	// The -fault one is gone too: a new connection has no fault.
	c2, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c2, "ok")
	if _, err := io.ReadFull(c2, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	var conns []map[string]any
	api(t, "GET", ctl+"/conns", "", &conns)
	for _, c := range conns {
		if strings.Contains(fmt.Sprint(c["legs"]), "ShortWrites") {
			t.Fatalf("a connection made after the reset has the -fault fault: %v", c)
		}
	}
}

func TestProxyUpstreamComesUpLater(t *testing.T) {
	upAddr := freeAddr(t)
	addr, ctl := startProxy(t, upAddr) // nothing listens there yet: the proxy starts anyway
	// The proxy resets the client at once: in the dial, if the reset comes
	// first, or in the first read.
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("a client while the upstream is down: %v, want a reset or EOF", err)
	}
	var stats map[string]any
	if api(t, "GET", ctl+"/stats", "", &stats); stats["dial_errors"] != 1.0 || !strings.Contains(fmt.Sprint(stats["last_dial_error"]), "refused") {
		t.Fatalf("GET /stats after a failed dial: %v", stats)
	}
	// The server comes up: the next client gets through.
	ln, err := net.Listen("tcp", upAddr)
	if err != nil {
		t.Skipf("the upstream's port was taken meanwhile: %v", err)
	}
	go func() {
		s, err := ln.Accept()
		if err == nil {
			proxybench.Echo(s)
			s.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	c2, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c2, "up")
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "up" {
		t.Fatalf("echo once the upstream is up: %q, %v", buf, err)
	}
}

// TestProxyServerBlocked: with the client stalled behind the proxy
// (StallReads() on the upstream leg), the server's writes to the proxy
// block; /conns says when, from the kernel's view of the server's socket.
func TestProxyServerBlocked(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A server that writes to every connection until its Write fails.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1<<10)
				for {
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	addr, ctl := startProxy(t, ln.Addr().String(), "-fault", "upstream:StallReads()")
	oneConn(t, addr, ctl)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var conns []map[string]any
		api(t, "GET", ctl+"/conns", "", &conns)
		if len(conns) == 1 && conns[0]["server_blocked"] != nil {
			b := conns[0]["server_blocked"].(map[string]any)
			if b["queued"].(float64) <= 0 {
				t.Fatalf("server_blocked %v: want the bytes queued", b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /conns: %v; no server_blocked 30 s after the client stalled", conns)
		}
		time.Sleep(10 * time.Millisecond) // polling the proxy's list
	}
}

// TestProxyExec: "stallproof proxy -exec" starts the upstream server in a
// private network namespace with small buffers and proxies to it: the
// reference server answers through it, and with the client stalled its
// writes block (server_blocked, seen from inside the namespace).
func TestProxyExec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("proxy -exec needs root")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// This test binary acts as stallproof (main_test.go's TestMain).
	cmdline := fmt.Sprintf("%s=1 %s serve -addr {addr}", asMainEnv, exe)
	attrs, _ := background(t, []string{"proxy", "-listen", "127.0.0.1:0", "-exec", cmdline,
		"-control", "127.0.0.1:0", "-fault", "upstream:StallReads()"}, "addr", "control")
	addr, ctl := attrs["addr"], attrs["control"]
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("TALLY\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		var conns []map[string]any
		api(t, "GET", ctl+"/conns", "", &conns)
		if len(conns) == 1 && conns[0]["server_blocked"] != nil {
			t.Logf("server_blocked after %d rounds: %v", i, conns[0]["server_blocked"])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /conns: %v; no server_blocked 30 s after the client stalled", conns)
		}
		// Votes make the server push tallies to the stalled client.
		if _, err := c.Write([]byte(strings.Repeat("VOTE red\n", 100))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // polling the proxy's list
	}
}
