package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/proxybench"
)

// background runs the command line args until the returned stop is called,
// and returns the values of the log attributes named in keys, read from
// its stderr. stop cancels its context, as SIGINT or SIGTERM do, and
// returns its exit code.
func background(t *testing.T, args []string, keys ...string) (attrs map[string]string, stop func() int) {
	t.Helper()
	pr, pw := io.Pipe()
	oldErr := stderr
	stderr = pw
	t.Cleanup(func() { stderr = oldErr })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args)
		pw.Close()
	}()
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("%q did not stop within 10s of its context's end", args)
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })

	attrs, seen := readAttrs(pr, keys)
	go io.Copy(io.Discard, pr)
	if len(attrs) < len(keys) {
		stop()
		t.Fatalf("%q: want %v in the log, got %q", args, keys, seen)
	}
	return attrs, stop
}

// echoServer is a loopback echo server, closing each connection once it
// has echoed everything; it stops in Cleanup.
func echoServer(t *testing.T) string {
	t.Helper()
	return proxybench.NewUpstream(t, func(c net.Conn) {
		proxybench.Echo(c)
		c.Close()
	}).Addr()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestProxyBadFlags(t *testing.T) {
	up := echoServer(t)
	listen := freeAddr(t)
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-listen", "0.0.0.0:0", "-upstream", up}, 2, `-listen: address "0.0.0.0:0" is not a loopback address`},
		{[]string{"-listen", listen, "-upstream", "192.0.2.7:80"}, 2, "-upstream: address \"192.0.2.7:80\" is not a loopback"},
		{[]string{"-listen", listen, "-upstream", up, "-control", ":0"}, 2, "-control: address \":0\" is not a loopback"},
		{[]string{"-listen", listen, "-upstream", "nope"}, 2, "-upstream: address \"nope\""},
		{[]string{"-listen", listen, "-upstream", up, "-fault", "upstream:Stall()"}, 2, "unknown fault Stall (known: StallReads"},
		{[]string{"-listen", listen, "-upstream", up, "-fault", "upstream:Latency(20)"}, 2, `bad duration "20"`},
		{[]string{"-listen", listen, "-upstream", up, "-fault", "sideways:Reset()"}, 2, `unknown leg "sideways"`},
		{[]string{"-listen", listen, "-upstream", up, "-fault", "StallReads()"}, 2, "want LEG:FAULT"},
		{[]string{"-listen", listen, "-upstream", up, "-fault", "client:TrickleReads(0, 1ms)"}, 2, `needs "bytes" greater than 0`},
		{[]string{"-listen", listen, "-upstream", up, "-fault", "client:AfterWritten(10, Reset()"}, 2, "want ')'"},
		{[]string{"-listen", listen, "-upstream", up, "-dial-timeout", "0s"}, 2, "-dial-timeout"},
	} {
		var code int
		out, errs := capture(t, func() { code = run(ctx, append([]string{"proxy"}, tc.args...)) })
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%q: exit %d, output %q; want exit %d and %q", tc.args, code, out+errs, tc.code, tc.want)
		}
		if strings.Contains(errs, "Control API") {
			t.Errorf("%q: an error printed the whole help", tc.args)
		}
	}
	// Nothing was left listening.
	if ln, err := net.Listen("tcp", listen); err != nil {
		t.Fatalf("-listen %s is still taken: %v", listen, err)
	} else {
		ln.Close()
	}
}

func TestProxyHelp(t *testing.T) {
	var code int
	out, errs := capture(t, func() { code = run(context.Background(), []string{"help", "proxy"}) })
	for _, want := range []string{"-listen", "-control", "POST   /faults", "stall_reads", "AfterWritten(bytes, FAULT)"} {
		if code != 0 || !strings.Contains(out+errs, want) {
			t.Errorf("help proxy: exit %d, missing %q", code, want)
		}
	}
}

// api calls the control API and decodes its JSON answer into v (if not
// nil), returning the status.
func api(t *testing.T, method, url, body string, v any) int {
	t.Helper()
	a := apiRaw(t, method, url, body)
	if a.contentType != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, url, a.contentType)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(a.body), v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, a.body)
		}
	}
	return a.status
}

type apiConn struct {
	ID   uint64 `json:"id"`
	Up   int64  `json:"up"`
	Legs map[string]struct {
		Faults []string `json:"faults"`
	} `json:"legs"`
	Events []string `json:"events"`
}

type apiFaultJSON struct {
	ID     uint64          `json:"id"`
	Name   string          `json:"name"`
	Conn   any             `json:"conn"`
	Stream string          `json:"stream"`
	Leg    string          `json:"leg"`
	Fault  json.RawMessage `json:"fault"`
	Call   string          `json:"call"`
}

func TestProxyCommandAndControlAPI(t *testing.T) {
	up := echoServer(t)
	attrs, stop := background(t, []string{"proxy", "-listen", "127.0.0.1:0", "-upstream", up,
		"-control", "127.0.0.1:0", "-fault", "client:ShortWrites(1)"}, "addr", "control")
	addr, ctl := attrs["addr"], attrs["control"]

	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "hello")
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo through the proxy: %q, %v", buf, err)
	}

	// The echo can come back before the proxy's Write that sent it upstream
	// has returned and counted it: poll.
	var conns []apiConn
	st := api(t, "GET", ctl+"/conns", "", &conns)
	for deadline := time.Now().Add(10 * time.Second); len(conns) == 1 && conns[0].Up < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // polling a counter
		st = api(t, "GET", ctl+"/conns", "", &conns)
	}
	if st != 200 || len(conns) != 1 || conns[0].Up != 5 ||
		fmt.Sprint(conns[0].Legs["client"].Faults) != "[ShortWrites(1)]" {
		t.Fatalf("GET /conns: %d %+v", st, conns)
	}
	id := conns[0].ID

	var f apiFaultJSON
	body := fmt.Sprintf(`{"conn": %d, "leg": "upstream", "fault": {"kind": "after_written", "bytes": 100, "then": {"kind": "latency", "delay": "250ms"}}}`, id)
	if st := api(t, "POST", ctl+"/faults", body, &f); st != 201 || f.Call != "AfterWritten(100, Latency(250ms, 0s))" || f.Leg != "upstream" || f.Stream != "upstream" {
		t.Fatalf("POST /faults: %d %+v", st, f)
	}
	var one apiConn
	api(t, "GET", fmt.Sprintf("%s/conns/%d", ctl, id), "", &one)
	if fmt.Sprint(one.Legs["upstream"].Faults) != "[AfterWritten(100, Latency(250ms, 0s))]" || !strings.Contains(strings.Join(one.Events, "\n"), "inject AfterWritten") {
		t.Fatalf("GET /conns/%d after POST: %+v", id, one)
	}
	var rule apiFaultJSON
	if st := api(t, "POST", ctl+"/faults", `{"conn": "new", "leg": "client", "fault": {"kind": "stall_reads"}}`, &rule); st != 201 || rule.Conn != "new" {
		t.Fatalf("POST /faults for new connections: %d %+v", st, rule)
	}
	var list []apiFaultJSON
	if api(t, "GET", ctl+"/faults", "", &list); len(list) != 2 || list[0].ID != f.ID || list[1].ID != rule.ID {
		t.Fatalf("GET /faults: %+v", list)
	}
	if st := api(t, "DELETE", fmt.Sprintf("%s/faults/%d", ctl, f.ID), "", nil); st != 200 {
		t.Fatalf("DELETE: %d", st)
	}
	api(t, "GET", fmt.Sprintf("%s/conns/%d", ctl, id), "", &one)
	if len(one.Legs["upstream"].Faults) != 0 {
		t.Fatalf("after DELETE the upstream leg has %v", one.Legs["upstream"].Faults)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/faults", `{"conn": "new", "leg": "upstream", "fault": {"kind": "stall"}}`, 400, `unknown fault kind \"stall\"`},
		{"POST", "/faults", `{"conn": "new", "leg": "upstream", "fault": {"kind": "latency", "delay": "20"}}`, 400, `bad duration \"20\"`},
		{"POST", "/faults", `{"conn": "new", "leg": "upstream", "fault": {"kind": "latency", "delay": 20}}`, 400, `a duration is a string`},
		{"POST", "/faults", `{"conn": "new", "leg": "upstream", "fault": {"kind": "reset", "bytes": 3}}`, 400, `reset takes no \"bytes\"`},
		{"POST", "/faults", `{"conn": "new", "leg": "upstream", "fault": {"kind": "after_time", "after": "1s"}}`, 400, `needs \"then\"`},
		{"POST", "/faults", `{"conn": "new", "leg": "upstream", "fault": {"kind": "reset", "colour": "red"}}`, 400, `unknown field`},
		{"POST", "/faults", `{"conn": "new", "leg": "middle", "fault": {"kind": "reset"}}`, 400, `unknown leg`},
		{"POST", "/faults", `{"conn": "old", "leg": "client", "fault": {"kind": "reset"}}`, 400, `want a connection's number or \"new\"`},
		{"POST", "/faults", `{"conn": 99, "leg": "client", "fault": {"kind": "reset"}}`, 404, `no live connection 99`},
		{"POST", "/faults", `not json`, 400, `bad request`},
		{"DELETE", "/faults/99", ``, 404, `no fault \"99\"`},
		{"DELETE", "/faults/x", ``, 404, `no fault \"x\"`},
		{"POST", "/faults", `{"stream": "sideways", "fault": {"kind": "reset"}}`, 400, `unknown stream \"sideways\"`},
		{"POST", "/faults", `{"fault": {"kind": "reset"}}`, 400, `no stream`},
		{"POST", "/faults", `{"stream": "downstream", "leg": "upstream", "fault": {"kind": "latency", "delay": "1ms"}}`, 400, `disagree`},
		{"POST", "/faults", `{"stream": "downstream", "fault": "Latency(fast)"}`, 400, `bad duration`},
		{"POST", "/faults", `{"name": "123", "stream": "downstream", "fault": {"kind": "reset"}}`, 400, `not only digits`},
		{"GET", "/reset", ``, 405, `allowed: POST`},
		{"GET", "/conns/99", ``, 404, `no live connection 99`},
		{"PUT", "/faults", ``, 405, `PUT is not allowed on /faults (allowed: GET, POST)`},
		{"GET", "/nope", ``, 404, `no such endpoint`},
	} {
		st := apiRaw(t, tc.method, ctl+tc.path, tc.body)
		if st.status != tc.status || !strings.Contains(st.body, tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d and %s", tc.method, tc.path, tc.body, st.status, st.body, tc.status, tc.want)
		}
		var e map[string]string
		if json.Unmarshal([]byte(st.body), &e) != nil || e["error"] == "" {
			t.Errorf("%s %s: %s is not a JSON error", tc.method, tc.path, st.body)
		}
	}

	var stats map[string]any
	if api(t, "GET", ctl+"/stats", "", &stats); stats["accepted"] != 1.0 || stats["upstream"] != up {
		t.Fatalf("GET /stats: %v", stats)
	}
	c.Close()
	if code := stop(); code != 0 {
		t.Fatalf("exit %d after the context ended", code)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the proxy still accepts connections after it stopped")
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(ctl, "http://"), time.Second); err == nil {
		t.Fatal("the control API still accepts connections after the proxy stopped")
	}
}

// rawAnswer is the control API's answer to a call, as it came.
type rawAnswer struct {
	status      int
	body        string
	contentType string
}

// apiRaw calls the control API and returns its answer.
func apiRaw(t *testing.T, method, url, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp.StatusCode, string(b), resp.Header.Get("Content-Type")}
}
