package properties

import (
	"slices"
	"testing"
)

func TestTrimFramesKeepsTheServersFrame(t *testing.T) {
	fs := []string{
		"runtime.gopark", "internal/poll.(*FD).Write",
		"github.com/stallproof/stallproof/faultnet.(*Conn).Write",
		"bufio.(*Writer).Flush", "bufio.(*Writer).Write", "io.WriteString",
		"net/textproto.(*Writer).PrintfLine", "fmt.Fprintf",
		"example.com/broker.(*Broker).Publish", "example.com/broker.(*client).serve",
	}
	got := trimFrames(fs)
	want := []string{
		"github.com/stallproof/stallproof/faultnet.(*Conn).Write",
		"bufio.(*Writer).Flush", "bufio.(*Writer).Write", "io.WriteString",
		"net/textproto.(*Writer).PrintfLine", "...", "example.com/broker.(*Broker).Publish",
	}
	if !slices.Equal(got, want) {
		t.Errorf("trimFrames:\n got %q\nwant %q", got, want)
	}
	// Within the first five, nothing is added.
	short := []string{"sync.(*Mutex).Lock", "main.(*srv).vote", "main.(*srv).serve"}
	if got := trimFrames(short); !slices.Equal(got, short) {
		t.Errorf("trimFrames(%q) = %q", short, got)
	}
}
