package main

import (
	"context"
	"flag"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
)

// serveBroker serves one of the in-process brokers on a loopback port
// until the test ends, and returns its address.
func serveBroker(t *testing.T, serve properties.ServeFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("the broker did not stop within 10s")
		}
	})
	return ln.Addr().String()
}

// TestCheckProtocols: check -protocol speaks each built-in protocol: it
// passes a correct broker that declares its limits, and fails a broken
// one (I/O under its lock; RESP and MQTT, a text and a binary protocol)
// with hints that name check's own flags.
//
// The CLI's own flags are what is tested here, so each run is short: two
// properties, one check, next to no shrinking (the protocols package
// runs the whole suite against these brokers and the real servers).
func TestCheckProtocols(t *testing.T) {
	t.Parallel()
	shrink := []string{shrinkTimeEnv + "=" + testShrinkTime}
	for _, tc := range []struct {
		protocol      string
		serve, broken properties.ServeFunc
	}{
		{"resp", broker.ServeRESP, broker.ServeRESPBroken},
		{"nats", broker.ServeNATS, nil}, // broken: TestBrokenFails in ./protocols, as for lines
		{"mqtt", broker.ServeMQTT, broker.ServeMQTTBroken},
		{"lines", broker.ServeLines, nil},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			t.Parallel()
			declared := []string{"-protocol", tc.protocol, "-checks", "1", "-props", "progress,delivery", "-drop", "262144", "-heap-per-stalled", "262144", "-channel", "news", "-payload", "32"}
			code, out, errs := runChild(t, shrink, append([]string{"check", "-addr", serveBroker(t, tc.serve)}, declared...)...)
			if code != 0 {
				t.Fatalf("check -protocol %s on a correct broker: exit %d, want 0:\n%s\n%s", tc.protocol, code, tail(out), errs)
			}
			if tc.broken == nil {
				return
			}
			// Pushes of 60 kB: over TCP the broker's socket send buffer
			// takes megabytes before its Write to a stalled subscriber
			// blocks, and the suite fills a subscriber that makes no
			// requests only by publishing.
			start := time.Now()
			code, out, errs = runChild(t, shrink, append(append([]string{"check", "-addr", serveBroker(t, tc.broken)}, declared...), "-payload", "60000")...)
			t.Logf("check -protocol %s on the broken broker: exit %d in %.1fs", tc.protocol, code, time.Since(start).Seconds())
			if code != 1 || !strings.Contains(out, "progress     FAIL") {
				t.Fatalf("check -protocol %s on a broken broker: exit %d, want 1 and progress failed:\n%s\n%s", tc.protocol, code, tail(out), errs)
			}
			if !strings.Contains(out, "To reproduce, run stallproof check -addr=") || !strings.Contains(out, "-protocol="+tc.protocol) {
				t.Errorf("no replay command of check's:\n%s", tail(out))
			}
			for _, bad := range []string{"-rapid.", "RunAll()", "go test"} {
				if strings.Contains(out, bad) {
					t.Errorf("check printed %q, which check does not take:\n%s", bad, tail(out))
				}
			}
		})
	}
}

// TestCheckProtocolBadInput: the protocol flags refuse what means
// nothing, with exit status 2.
func TestCheckProtocolBadInput(t *testing.T) {
	addr := serveBroker(t, broker.ServeLines)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-protocol", "mqtt", "-qos", "2"}, "-qos: want 0 or 1"},
		{[]string{"-protocol", "resp", "-evict", "1s", "-drop", "10"}, "give one"},
		{[]string{"-protocol", "nosuch"}, "want v1, resp, nats, mqtt, lines or a protocol file"},
		{[]string{"-protocol", "resp", "-request", "PING", "-reply", "PONG"}, "give one of them"},
	} {
		var code int
		_, errs := capture(t, func() { code = run(context.Background(), append([]string{"check", "-addr", addr}, tc.args...)) })
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestCheckProtocolMismatch: a server that speaks another protocol than
// -protocol says is no violation: exit 2, "could not speak", and what
// the harness saw.
func TestCheckProtocolMismatch(t *testing.T) {
	old := flag.Lookup("rapid.shrinktime").Value.String()
	if err := flag.Set("rapid.shrinktime", "500ms"); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("rapid.shrinktime", old)
	addr := serveBroker(t, broker.ServeLines)
	var code int
	out, errs := capture(t, func() {
		code = run(context.Background(), []string{"check", "-addr", addr, "-protocol", "mqtt", "-checks", "1", "-props", "progress"})
	})
	if code != 2 || !strings.Contains(errs, "could not speak MQTT 3.1.1 to the server at "+addr) || !strings.Contains(errs, "the harness saw: ") {
		t.Fatalf("check -protocol mqtt on a line server: exit %d, want 2 and \"could not speak\":\n%s\n%s", code, tail(out), errs)
	}
}
