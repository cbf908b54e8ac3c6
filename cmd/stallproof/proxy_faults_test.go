package main

import (
	"strings"
	"testing"
)

// TestFaultForms: every fault the proxy knows parses from the call that
// prints it and from its JSON, and both give the same fault.
func TestFaultForms(t *testing.T) {
	cases := []struct{ call, json, want string }{
		{"StallReads()", `{"kind": "stall_reads"}`, "StallReads()"},
		{"BlockWrites()", `{"kind": "block_writes"}`, "BlockWrites()"},
		{"TrickleReads(64, 100ms)", `{"kind": "trickle_reads", "bytes": 64, "every": "100ms"}`, "TrickleReads(64, 100ms)"},
		{"TrickleWrites(1,1s)", `{"kind": "trickle_writes", "bytes": 1, "every": "1s"}`, "TrickleWrites(1, 1s)"},
		{"Bandwidth(10000)", `{"kind": "bandwidth", "bytes_per_sec": 10000}`, "Bandwidth(10000)"},
		{"Latency(20ms, 5ms)", `{"kind": "latency", "delay": "20ms", "jitter": "5ms"}`, "Latency(20ms, 5ms)"},
		{"Latency(1.5s)", `{"kind": "latency", "delay": "1.5s"}`, "Latency(1.5s, 0s)"},
		{"ShortReads(1)", `{"kind": "short_reads", "bytes": 1}`, "ShortReads(1)"},
		{"ShortWrites(3)", `{"kind": "short_writes", "bytes": 3}`, "ShortWrites(3)"},
		{"RandomShortReads(8)", `{"kind": "random_short_reads", "bytes": 8}`, "RandomShortReads(8)"},
		{"RandomShortWrites(8)", `{"kind": "random_short_writes", "bytes": 8}`, "RandomShortWrites(8)"},
		{"HalfCloseWrite()", `{"kind": "close_write"}`, "HalfCloseWrite()"},
		{"HalfCloseRead()", `{"kind": "close_read"}`, "HalfCloseRead()"},
		{"Hangup()", `{"kind": "close"}`, "Hangup()"},
		{"Reset()", `{"kind": "reset"}`, "Reset()"},
		{"AfterRead(0, Reset())", `{"kind": "after_read", "then": {"kind": "reset"}}`, "AfterRead(0, Reset())"},
		{"AfterWritten(65536, StallReads())", `{"kind": "after_written", "bytes": 65536, "then": {"kind": "stall_reads"}}`, "AfterWritten(65536, StallReads())"},
		{"AfterTime(2s, AfterWritten(10, HalfCloseWrite()))", `{"kind": "after_time", "after": "2s", "then": {"kind": "after_written", "bytes": 10, "then": {"kind": "close_write"}}}`, "AfterTime(2s, AfterWritten(10, HalfCloseWrite()))"},
		// The old names of these faults: still accepted.
		{"CloseWrite()", `{"kind": "close_write"}`, "HalfCloseWrite()"},                                                                  // old name
		{"CloseRead()", `{"kind": "close_read"}`, "HalfCloseRead()"},                                                                     // old name
		{"Close()", `{"kind": "close"}`, "Hangup()"},                                                                                     // old name
		{"AfterWritten(10, Close())", `{"kind": "after_written", "bytes": 10, "then": {"kind": "close"}}`, "AfterWritten(10, Hangup())"}, // old name
	}
	kinds := map[string]bool{}
	for _, c := range cases {
		spec, err := parseFaultCall(c.call)
		if err != nil {
			t.Errorf("%s: %v", c.call, err)
			continue
		}
		kinds[spec.Kind] = true
		f, err := spec.fault()
		if err != nil || f.String() != c.want {
			t.Errorf("%s: %v, %v; want %s", c.call, f, err, c.want)
		}
		js, err := decodeFault([]byte(c.json))
		if err != nil {
			t.Errorf("%s: %v", c.json, err)
			continue
		}
		f, err = js.fault()
		if err != nil || f.String() != c.want {
			t.Errorf("%s: %v, %v; want %s", c.json, f, err, c.want)
		}
	}
	for _, k := range faultKinds {
		if !kinds[k.kind] {
			t.Errorf("fault kind %s has no case here", k.kind)
		}
	}
}

func TestFaultFormErrors(t *testing.T) {
	for _, c := range []struct{ call, want string }{
		{"", "want a fault"},
		{"stallReads()", "want a fault"},
		{"StallReads", "want '('"},
		{"StallReads(1)", "want ')'"},
		{"Latency(20ms, 5ms, 1ms)", "want ')'"},
		{"TrickleReads(64)", "want ','"},
		{"Bandwidth(fast)", "want a whole number"},
		{"AfterWritten(10, Nope())", "unknown fault Nope"},
		{"Reset() Reset()", "unexpected"},
	} {
		_, err := parseFaultCall(c.call)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want an error with %q", c.call, err, c.want)
		}
	}
	for _, c := range []struct{ json, want string }{
		{`{}`, "without a kind"},
		{`{"kind": "bandwidth"}`, `needs "bytes_per_sec" greater than 0`},
		{`{"kind": "short_reads", "bytes": -1}`, `needs "bytes" greater than 0`},
		{`{"kind": "latency", "delay": "1s", "jitter": "-1s"}`, "jitter must not be negative"},
		{`{"kind": "after_read", "bytes": -1, "then": {"kind": "reset"}}`, "bytes must not be negative"},
		{`{"kind": "after_read", "then": {"kind": "nope"}}`, `after_read: then: unknown fault kind "nope"`},
		{`{"kind": "stall_reads", "every": "1s"}`, `stall_reads takes no "every"`},
	} {
		spec, err := decodeFault([]byte(c.json))
		if err == nil {
			_, err = spec.fault()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error with %q", c.json, err, c.want)
		}
	}
}
