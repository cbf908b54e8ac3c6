package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
)

// respFile describes Redis pub/sub in a protocol file, framed by RESP.
const respFile = `
name redis-by-file
framing resp
role publisher
  request "PUBLISH news c{id}-{n}\r\n" # inline: a bulk string's length would vary with {id} and {n}
  publishes
  ungreeted # the old name of no-greeting, still accepted
role subscriber
  hello "*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n"
  greeting "*3\r\n$9\r\nsubscribe\r\n"
  subscribes
push "*3\r\n$7\r\nmessage\r\n"
error "-"
reply ":"
`

// TestCheckProtocolFile: check speaks a protocol described in a file:
// the worked file of docs/, and RESP framing.
func TestCheckProtocolFile(t *testing.T) {
	old := flag.Lookup("rapid.shrinktime").Value.String()
	if err := flag.Set("rapid.shrinktime", "1s"); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("rapid.shrinktime", old)
	resp := filepath.Join(t.TempDir(), "redis.protocol")
	if err := os.WriteFile(resp, []byte(respFile), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file  string
		serve properties.ServeFunc
	}{
		{"../../docs/pubsub.protocol", broker.ServeLines},
		{resp, broker.ServeRESP},
	} {
		var code int
		out, errs := capture(t, func() {
			code = run(context.Background(), []string{"check", "-addr", serveBroker(t, tc.serve), "-protocol", tc.file,
				"-checks", "1", "-props", "progress,delivery", "-drop", "262144"})
		})
		if code != 0 || !strings.Contains(out, "delivery     PASS") {
			t.Errorf("check -protocol %s: exit %d, want 0 and delivery passed:\n%s\n%s", tc.file, code, tail(out), errs)
		}
	}
}

func TestParseProtocolFile(t *testing.T) {
	p, err := parseProtocolFile(respFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Roles[0].Request(3, 7)); got != "PUBLISH news c3-7\r\n" {
		t.Errorf("request = %q", got)
	}
	if !p.Roles[0].NoGreeting || p.Roles[1].NoGreeting || !p.Greeted("subscriber", 0, []byte("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")) {
		t.Error("greetings wrong")
	}
	for msg, want := range map[string]properties.Class{":1\r\n": properties.Reply, "-ERR x\r\n": properties.ErrorReply, "+PONG\r\n": properties.Ignore} {
		if got := p.Classify("publisher", []byte(msg)); got != want {
			t.Errorf("Classify(%q) = %v, want %v", msg, got, want)
		}
	}
	for text, want := range map[string]string{
		"":                                "no role",
		"role a\nframing xml":             `line 2: framing "xml"`,
		"hello \"x\"":                     "belongs in a role block",
		"role a\nrequest \"x":             "line 2: bad quoted string",
		"role a\nreply":                   "line 2: reply takes 1 argument(s), got 0",
		"role a\nfly away":                `line 2: unknown directive "fly"`,
		"role a\notherwise maybe":         `otherwise "maybe"`,
		"role a # comment\npush \"\" ":    "non-empty prefix",
		"role a\ndelivery sometimes":      `delivery "sometimes"`,
		"name x\nrole a\npublishes now\n": "publishes takes 0 argument(s)",
	} {
		if _, err := parseProtocolFile(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parse %q: error %v, want %q", text, err, want)
		}
	}
}

// FuzzSplitLengthPrefixed: the framing never returns more than it was
// given.
func FuzzSplitLengthPrefixed(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x02hi"), false)
	f.Add([]byte("\xff\xff\xff\xff"), true)
	f.Fuzz(func(t *testing.T, data []byte, atEOF bool) {
		adv, tok, err := splitLengthPrefixed(data, atEOF)
		if err == nil && (adv > len(data) || len(tok) > adv || (adv > 0) != (tok != nil)) {
			t.Fatalf("advance %d, token %q for %d bytes", adv, tok, len(data))
		}
	})
}
