package faultnet_test

import (
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/proxybench"
)

// The splice and the proxy must add no stalls of their own. A server that
// streams in 1 KiB writes through them used to stall, now and then, for
// 10–60 s with megabytes queued in its socket while the splice had nothing
// to read: its receive path peeked one byte (MSG_PEEK) before each read.
// A normal transfer here takes well under a second; a stall, 10 s or more.
//
// The full figure, by hand (200 transfers of 64 MiB through each; fails
// above 2 s; a stall is cut off after a minute):
//
//	STALLPROOF_STALL_RUNS=200 STALLPROOF_STALL_MIB=64 STALLPROOF_STALL_MAX=2s \
//	  go test -count=1 -v -timeout 30m -run TestNoStallSmallWrites ./faultnet/
func TestNoStallSmallWrites(t *testing.T) {
	t.Parallel()
	runs, mib := envInt(t, "STALLPROOF_STALL_RUNS", 10), envInt(t, "STALLPROOF_STALL_MIB", 16)
	// A transfer over max fails; one over cut (a stall) is cut off.
	max, cut := 10*time.Second, time.Minute
	if s := os.Getenv("STALLPROOF_STALL_MAX"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("STALLPROOF_STALL_MAX: %v", err)
		}
		max = d
	}
	total := int64(mib) << 20
	up := proxybench.NewUpstream(t, proxybench.SmallWrites(total, 1<<10))
	paths := []string{"proxy", "splice"}
	if os.Getenv("STALLPROOF_STALL_PLAIN") != "" {
		paths = append(paths, "plain-io.Copy") // the floor, for comparison
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			var dial func() (net.Conn, error)
			switch path {
			case "plain-io.Copy":
				addr := proxybench.PlainCopy.Start(t, up.Addr()).Addr()
				dial = func() (net.Conn, error) { return net.Dial("tcp", addr) }
			case "proxy":
				p, err := faultnet.NewProxy("127.0.0.1:0", up.Addr())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { p.Close() })
				dial = func() (net.Conn, error) { return net.Dial("tcp", p.Addr().String()) }
			default:
				dial = proxybench.SpliceDialer(t, up.Addr())
			}
			var took []time.Duration
			stalls := 0
			for i := range runs {
				c, err := dial()
				if err != nil {
					t.Fatal(err)
				}
				d, n, err := proxybench.Transfer(c, cut)
				took = append(took, d)
				switch {
				case errors.Is(err, proxybench.ErrStalled) || d > max:
					stalls++
					t.Errorf("transfer %d of %d MiB took %v, over %v (%d bytes, %v)", i+1, mib, d.Round(time.Millisecond), max, n, err)
				case err != nil:
					t.Fatalf("transfer %d: %v", i+1, err)
				case n != total:
					t.Fatalf("transfer %d: %d bytes, want %d", i+1, n, total)
				}
			}
			slices.Sort(took)
			t.Logf("%d transfers of %d MiB in 1 KiB server writes: median %v, max %v, %d over %v",
				runs, mib, took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), stalls, max)
		})
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a number above 0", name, s)
	}
	return n
}
