package main

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/cmd/stallproof/internal/designs"
)

// TestServeEveryDesign: "serve -design NAME" accepts every design chaos
// knows, serves it on a real port (it greets with HELLO and answers a vote),
// and stops cleanly when its context ends.
func TestServeEveryDesign(t *testing.T) {
	designs := designs.All()
	if len(designs) < 3 {
		t.Fatalf("chaos knows %d designs", len(designs))
	}
	for _, d := range designs {
		t.Run(d.Name, func(t *testing.T) {
			keys := []string{"addr", "design"}
			if d.Name == "reference" {
				keys = keys[:1] // the reference logs its options instead
			}
			attrs, stop := background(t, []string{"serve", "-design", d.Name, "-addr", "127.0.0.1:0"}, keys...)
			if d.Name != "reference" && attrs["design"] != d.Name {
				t.Fatalf("serving design %q, want %q", attrs["design"], d.Name)
			}
			c, err := net.DialTimeout("tcp", attrs["addr"], 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(c)
			hello, err := r.ReadString('\n')
			if err != nil || !strings.HasPrefix(hello, "HELLO ") {
				t.Fatalf("greeting %q, %v; want HELLO", hello, err)
			}
			option := strings.Split(strings.TrimSpace(strings.TrimPrefix(hello, "HELLO ")), ",")[0]
			if _, err := c.Write([]byte("VOTE " + option + "\n")); err != nil {
				t.Fatal(err)
			}
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("no OK for a vote: %v", err)
				}
				if strings.HasPrefix(line, "OK ") {
					break
				}
			}
			c.Close()
			if code := stop(); code != 0 {
				t.Fatalf("exit %d", code)
			}
		})
	}
}

func TestServeDesignErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "-design", "nope", "-addr", "127.0.0.1:0"}, `-design: unknown design "nope" (known: reference, ack-only, `},
		{[]string{"serve", "-design", "lock-across-write", "-options", "a,b", "-addr", "127.0.0.1:0"}, "-options: applies to -design reference only"},
	} {
		var code int
		out, errs := capture(t, func() { code = run(ctx, tc.args) })
		if code != 2 || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%q: exit %d, output %q; want exit 2 and %q", tc.args, code, out+errs, tc.want)
		}
	}
	// The unknown-design error names every design.
	_, errs := capture(t, func() { run(ctx, []string{"serve", "-design", "nope"}) })
	for _, d := range designs.All() {
		if !strings.Contains(errs, d.Name) {
			t.Errorf("the error does not name %s: %q", d.Name, errs)
		}
	}
}
