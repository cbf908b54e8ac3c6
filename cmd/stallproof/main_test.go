package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/internal/harness"
	"go.uber.org/goleak"
)

// asMainEnv makes the test binary the stallproof command itself, for the
// servers check -exec starts (check_exec_test.go).
const asMainEnv = "STALLPROOF_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) != "" {
		if d := os.Getenv(shrinkTimeEnv); d != "" {
			if err := flag.Set("rapid.shrinktime", d); err != nil {
				panic(err)
			}
		}
		main()
	}
	harness.NoRaceExitPause()
	harness.DefaultParallel(harness.ChildParallelism)
	goleak.VerifyTestMain(m)
}

// capture runs f with stdout and stderr going to buffers.
func capture(t *testing.T, f func()) (out, errs string) {
	t.Helper()
	var o, e bytes.Buffer
	oldOut, oldErr := stdout, stderr
	stdout, stderr = &o, &e
	defer func() { stdout, stderr = oldOut, oldErr }()
	f()
	return o.String(), e.String()
}

func TestHelpAndUsage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage: stallproof"},
		{[]string{"help"}, 0, "serve"},
		{[]string{"-h"}, 0, "Commands:"},
		{[]string{"help", "serve"}, 0, "-addr"},
		{[]string{"help", "nope"}, 2, "unknown command"},
		{[]string{"help", "help"}, 0, "Commands:"},
		{[]string{"help", "chaos"}, 0, "-rate"},
		{[]string{"help", "bench"}, 0, "-addr"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"serve", "-nope"}, 2, "flag provided but not defined"},
		{[]string{"serve", "extra"}, 2, "unexpected arguments"},
		{[]string{"serve", "-options", "Red"}, 2, "stallproof serve: -options: "},
		{[]string{"serve", "-log-level", "loud"}, 2, "stallproof serve: -log-level: "},
		{[]string{"serve", "-addr", "127.0.0.1:0", "-metrics", "nope"}, 1, "stallproof serve: -metrics: "},
		{[]string{"serve", "-addr", "nope"}, 1, "stallproof serve: -addr: "},
		{[]string{"serve", "-h"}, 0, "-write-timeout"},
	} {
		var code int
		out, errs := capture(t, func() { code = run(ctx, tc.args) })
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("%q: exit %d, output %q; want exit %d and %q", tc.args, code, out+errs, tc.code, tc.want)
		}
	}
}

// TestServe runs "stallproof serve" on ephemeral ports, learns them from
// its log, votes with a plain TCP client, reads the metrics, and stops it
// as SIGINT would (the context).
func TestServe(t *testing.T) {
	pr, pw := io.Pipe()
	oldErr := stderr
	stderr = pw
	defer func() { stderr = oldErr }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-metrics", "127.0.0.1:0", "-options", "yes,no"})
		pw.Close()
	}()

	var addr, metrics string
	logs := bufio.NewScanner(pr)
	re := regexp.MustCompile(`(addr|url)=(\S+)`)
	for (addr == "" || metrics == "") && logs.Scan() {
		for _, m := range re.FindAllStringSubmatch(logs.Text(), -1) {
			if m[1] == "addr" {
				addr = m[2]
			} else {
				metrics = m[2]
			}
		}
	}
	go io.Copy(io.Discard, pr)
	if addr == "" || metrics == "" {
		t.Fatalf("no addresses in the log")
	}

	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	io.WriteString(nc, "VOTE yes\nQUIT\n")
	var got []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			break
		}
		got = append(got, l)
	}
	nc.Close()
	if len(got) < 4 || got[0] != "HELLO yes,no\n" || !strings.HasPrefix(got[2], "OK 1") && !strings.HasPrefix(got[3], "OK 1") || got[len(got)-1] != "BYE\n" {
		t.Fatalf("session: %q", got)
	}

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := hc.Get(metrics)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"stallproof"`) || !strings.Contains(string(body), `"Seq":1`) {
		t.Fatalf("metrics: %s", body)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
}

// TestPackageDocListsEveryCommand: the command's doc (go doc) names every
// subcommand that registers itself.
func TestPackageDocListsEveryCommand(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(src), "\npackage main")
	for _, c := range commands {
		if !strings.Contains(doc, "//\tstallproof "+c.name+" ") {
			t.Errorf("main.go's package doc does not list %q", c.name)
		}
	}
}
