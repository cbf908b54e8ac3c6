package protocols_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/protocols"
)

// scan frames data with split, fed one byte at a time so every partial
// message is seen, and returns the tokens and the error.
func scan(split bufio.SplitFunc, data []byte) ([]string, error) {
	sc := bufio.NewScanner(iotest.OneByteReader(bytes.NewReader(data)))
	sc.Split(split)
	var out []string
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}

func TestSplitRESP(t *testing.T) {
	msg := "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhe\r\no\r\n"
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"+OK\r\n:1\r\n-ERR no\r\n", []string{"+OK\r\n", ":1\r\n", "-ERR no\r\n"}},
		{msg + msg, []string{msg, msg}},
		{"$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n", []string{"$-1\r\n", "*-1\r\n", "*0\r\n", "$0\r\n\r\n"}},
		{"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", []string{"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n"}},
		{">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n", []string{">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n"}},
		{"%1\r\n+k\r\n:2\r\n_\r\n#t\r\n", []string{"%1\r\n+k\r\n:2\r\n", "_\r\n", "#t\r\n"}},
		{"|1\r\n+a\r\n:1\r\n:2\r\n", []string{"|1\r\n+a\r\n:1\r\n:2\r\n"}},
	} {
		got, err := scan(protocols.SplitRESP, []byte(tc.in))
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
	for _, bad := range []string{"?x\r\n", "$x\r\n", "$3\r\nabcde\r\n", "*-2\r\n", ":1\r\n*2\r\n:1\r\n" /* cut short */, "+OK"} {
		_, err := scan(protocols.SplitRESP, []byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestSplitNATS(t *testing.T) {
	got, err := scan(protocols.SplitNATS, []byte("INFO {}\r\nMSG a 1 5\r\nhe\r\no\r\nPING\r\nHMSG a 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n+OK\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"INFO {}", "MSG a 1 5\r\nhe\r\no", "PING", "HMSG a 1 12 14\r\nNATS/1.0\r\n\r\nhi", "+OK"}, got)
	for _, bad := range []string{"MSG a 1 x\r\n", "MSG a 1 2\r\nabc\r\n", "MSG a 1 5\r\nab", "PONG"} {
		_, err := scan(protocols.SplitNATS, []byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestSplitMQTT(t *testing.T) {
	big := append([]byte{0x30, 0x80, 0x01}, bytes.Repeat([]byte{'x'}, 128)...) // remaining length 128: two bytes
	in := append([]byte{0x20, 2, 0, 0, 0xd0, 0}, big...)
	got, err := scan(protocols.SplitMQTT, in)
	require.NoError(t, err)
	assert.Equal(t, []string{"\x20\x02\x00\x00", "\xd0\x00", string(big)}, got)
	for _, bad := range [][]byte{{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, {0x30, 5, 1, 2}, {0x30}} {
		_, err := scan(protocols.SplitMQTT, bad)
		assert.Error(t, err, "% x", bad)
	}
}

// The protocols' own requests and hellos frame back into themselves: what
// a client sends is valid in its protocol.
func TestRequestsFrame(t *testing.T) {
	p := protocols.MQTT(protocols.QoS(1), protocols.Auth("u", "p"), protocols.Payload(300))
	for _, r := range p.Roles {
		got, err := scan(protocols.SplitMQTT, r.Hello(7))
		require.NoError(t, err)
		assert.Len(t, got, 1+btoi(r.Subscribes), r.Name)
	}
	req := p.Roles[0].Request(7, 3)
	got, err := scan(protocols.SplitMQTT, req)
	require.NoError(t, err)
	assert.Equal(t, []string{string(req)}, got)
	assert.Contains(t, string(req), "c7-3xx")

	r := protocols.RESP(protocols.Auth("", "secret"))
	got, err = scan(protocols.SplitRESP, r.Roles[1].Hello(1))
	require.NoError(t, err)
	assert.Equal(t, []string{"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n", "*2\r\n$9\r\nSUBSCRIBE\r\n$10\r\nstallproof\r\n"}, got)
	n, err := scan(protocols.SplitNATS, protocols.NATS(protocols.Auth("u", "p")).Roles[1].Hello(2))
	require.NoError(t, err)
	require.Len(t, n, 3)
	assert.True(t, strings.HasPrefix(n[0], "CONNECT {"), n[0])
	assert.Contains(t, n[0], `"pass":"p"`)
	assert.Contains(t, n[0], `"user":"u"`)
	assert.Equal(t, []string{"SUB stallproof 1", "PING"}, n[1:])
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The split functions never panic, never return a token longer than the
// data or an advance past it, and never advance without a token.
func fuzzSplit(f *testing.F, split bufio.SplitFunc, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, atEOF bool) {
		adv, tok, err := split(data, atEOF)
		if err != nil {
			return
		}
		if adv < 0 || adv > len(data) || len(tok) > adv {
			t.Fatalf("advance %d, token of %d bytes, for %d bytes", adv, len(tok), len(data))
		}
		if (adv > 0) != (tok != nil) {
			t.Fatalf("advance %d with token %q", adv, tok)
		}
	})
}

func FuzzSplitRESP(f *testing.F) {
	fuzzSplit(f, protocols.SplitRESP, "+OK\r\n", "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n", "|1\r\n+a\r\n:1\r\n:2\r\n", "%1\r\n+k\r\n:2\r\n", "*9999\r\n")
}

func FuzzSplitNATS(f *testing.F) {
	fuzzSplit(f, protocols.SplitNATS, "MSG a 1 5\r\nhello\r\n", "PING\r\n", "HMSG a 1 2 3\r\n")
}

func FuzzSplitMQTT(f *testing.F) {
	fuzzSplit(f, protocols.SplitMQTT, "\x20\x02\x00\x00", "\x30\x80\x01", "\x30\xff\xff\xff\xff")
}
