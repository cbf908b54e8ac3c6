package server

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/golden from the server")

// TestGolden replays each testdata/golden/NAME.in (what a client sends
// before it half-closes) against a server with pushes off, and checks
// that the server sends NAME.out byte for byte, whether the client's
// bytes arrive at once or one at a time. It also checks the model used by
// FuzzConn against the transcripts.
func TestGolden(t *testing.T) {
	t.Parallel()
	ins, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.in"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden transcripts: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in")
		t.Run(name, func(t *testing.T) {
			req, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			outPath := strings.TrimSuffix(in, ".in") + ".out"
			if *update {
				got := session(t, transports[0], req, 0)
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if m := model(DefaultOptions, req); !bytes.Equal(m, want) {
				t.Errorf("model disagrees with the transcript:\nmodel:\n%s\nwant:\n%s", m, want)
			}
			for _, tr := range transports {
				for _, chunk := range []int{0, 1, 7} {
					if got := session(t, tr, req, chunk); !bytes.Equal(got, want) {
						t.Errorf("%s, writes of %d bytes: got\n%s\nwant\n%s", tr.name, chunk, got, want)
					}
				}
			}
		})
	}
}
