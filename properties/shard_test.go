package properties

import (
	"flag"
	"strconv"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in       string
		shard, n int
		err      string // a piece of the error, "" for none
	}{
		{"1/4", 1, 4, ""},
		{"4/4", 4, 4, ""},
		{" 2 / 3 ", 2, 3, ""},
		{"1/1", 1, 1, ""},
		{"0/4", 0, 0, "counted from 1"},
		{"5/4", 0, 0, "between 1 and 4"},
		{"-1/4", 0, 0, "between 1 and 4"},
		{"1/0", 0, 0, "n must be between"},
		{"1/100000", 0, 0, "n must be between"},
		{"2", 0, 0, "want i/n"},
		{"a/b", 0, 0, "whole numbers"},
		{"1/4/2", 0, 0, "whole numbers"},
		{"1.5/4", 0, 0, "whole numbers"},
	} {
		shard, n, err := parseShard(tc.in)
		switch {
		case tc.err == "" && (err != nil || shard != tc.shard || n != tc.n):
			t.Errorf("parseShard(%q) = %d, %d, %v; want %d, %d", tc.in, shard, n, err, tc.shard, tc.n)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseShard(%q) error %v, want one saying %q", tc.in, err, tc.err)
		case err != nil && !strings.Contains(err.Error(), shardEnv):
			t.Errorf("parseShard(%q): error %q does not name %s", tc.in, err, shardEnv)
		}
	}
}

func TestShardFromEnv(t *testing.T) {
	t.Setenv(shardEnv, "")
	if _, _, ok, err := shardFromEnv(); ok || err != nil {
		t.Errorf("unset: ok=%v err=%v", ok, err)
	}
	t.Setenv(shardEnv, "3/8")
	if s, n, ok, err := shardFromEnv(); !ok || err != nil || s != 3 || n != 8 {
		t.Errorf("3/8: %d, %d, %v, %v", s, n, ok, err)
	}
	t.Setenv(shardEnv, "3of8")
	if _, _, ok, err := shardFromEnv(); ok || err == nil {
		t.Errorf("3of8: ok=%v err=%v, want an error", ok, err)
	}
}

// seedsUsed lists the seeds rapid v1.3.0 gives the checks of a run from
// base seed s that sees iters checks, valid or invalid (engine.go findBug:
// seed += iter before each).
func seedsUsed(s uint64, iters int) []uint64 {
	var out []uint64
	for iter := range iters {
		s += uint64(iter)
		out = append(out, s)
	}
	return out
}

func TestShardPlanCoversDisjointRanges(t *testing.T) {
	for _, tc := range []struct {
		total, n int
		base     uint64
	}{
		{100, 4, 0}, {101, 4, 12345}, {7, 7, 1}, {1000, 3, ^uint64(0) - 5}, {10, 1, 99},
	} {
		sum := 0
		owner := map[uint64]int{}
		for shard := 1; shard <= tc.n; shard++ {
			seed, checks, err := shardPlan(tc.total, tc.base, shard, tc.n)
			if err != nil {
				t.Fatalf("%+v shard %d: %v", tc, shard, err)
			}
			if seed == 0 {
				t.Errorf("%+v shard %d: seed 0, which rapid takes for a random one", tc, shard)
			}
			if lo, hi := tc.total/tc.n, tc.total/tc.n+1; checks < lo || checks > hi {
				t.Errorf("%+v shard %d: %d checks, want %d or %d", tc, shard, checks, lo, hi)
			}
			sum += checks
			// Every seed the shard could use, invalid checks included, is
			// its own.
			for _, s := range seedsUsed(seed, checks*(invalidChecksMult+1)) {
				if o, dup := owner[s]; dup && o != shard {
					t.Fatalf("%+v: seed %d used by shards %d and %d", tc, s, o, shard)
				}
				owner[s] = shard
			}
			// And the same inputs give the same plan.
			if seed2, checks2, _ := shardPlan(tc.total, tc.base, shard, tc.n); seed2 != seed || checks2 != checks {
				t.Errorf("%+v shard %d: not reproducible", tc, shard)
			}
		}
		if sum != tc.total {
			t.Errorf("%+v: shards run %d checks in all, want %d", tc, sum, tc.total)
		}
	}
}

func TestShardPlanSingleShardIsTheRun(t *testing.T) {
	seed, checks, err := shardPlan(50, 777, 1, 1)
	if err != nil || seed != 777 || checks != 50 {
		t.Errorf("1/1: %d, %d, %v; want the run itself (777, 50)", seed, checks, err)
	}
	if seed, _, _ := shardPlan(50, 0, 1, 1); seed != defaultShardSeed {
		t.Errorf("no base seed: %d, want defaultShardSeed", seed)
	}
}

func TestShardPlanRefuses(t *testing.T) {
	if _, _, err := shardPlan(3, 1, 1, 4); err == nil || !strings.Contains(err.Error(), "at least one") {
		t.Errorf("3 checks over 4 shards: %v", err)
	}
	if _, _, err := shardPlan(100, 1, 5, 4); err == nil {
		t.Error("shard 5 of 4: no error")
	}
	if _, _, err := shardPlan(100_000_000_000, 1, 1, maxShards); err == nil || !strings.Contains(err.Error(), "seed range") {
		t.Errorf("checks past the seed range: %v", err)
	}
	if _, _, err := shardPlan(1<<62, 1, 1, 2); err == nil {
		t.Error("2⁶² checks: no error")
	}
}

func TestApplyShard(t *testing.T) {
	cf, sf := flag.Lookup("rapid.checks"), flag.Lookup("rapid.seed")
	oldC, oldS := cf.Value.String(), sf.Value.String()
	defer func() { _ = cf.Value.Set(oldC); _ = sf.Value.Set(oldS) }()
	_ = cf.Value.Set("100")
	_ = sf.Value.Set("0")

	t.Setenv(shardEnv, "")
	restore, desc, err := applyShard()
	if err != nil || desc != "" || cf.Value.String() != "100" {
		t.Errorf("no shard: %q %v, checks %s", desc, err, cf.Value.String())
	}
	restore()

	t.Setenv(shardEnv, "2/4")
	restore, desc, err = applyShard()
	if err != nil {
		t.Fatal(err)
	}
	wantSeed, wantChecks, _ := shardPlan(100, 0, 2, 4)
	if cf.Value.String() != "25" || sf.Value.String() != strconv.FormatUint(wantSeed, 10) || wantChecks != 25 {
		t.Errorf("2/4 of 100: -rapid.checks=%s -rapid.seed=%s, want 25 and %d", cf.Value.String(), sf.Value.String(), wantSeed)
	}
	if !strings.Contains(desc, "shard 2/4: 25 of 100 checks") || !strings.Contains(desc, "-rapid.seed=") {
		t.Errorf("description %q", desc)
	}
	restore()
	if cf.Value.String() != "100" || sf.Value.String() != "0" {
		t.Errorf("not restored: checks %s seed %s", cf.Value.String(), sf.Value.String())
	}

	t.Setenv(shardEnv, "9/4")
	if _, _, err := applyShard(); err == nil {
		t.Error("9/4: no error")
	}
	_ = cf.Value.Set("2")
	t.Setenv(shardEnv, "3/4")
	if _, _, err := applyShard(); err == nil || cf.Value.String() != "2" {
		t.Errorf("2 checks over 4 shards: %v, checks now %s", err, cf.Value.String())
	}
}
