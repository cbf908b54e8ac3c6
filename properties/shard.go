package properties

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Sharding: STALLPROOF_SHARD=i/n makes this run shard i of n of one long
// soak, so that n CI runners share it. i is 1-based, 1 ≤ i ≤ n (a
// GitHub Actions matrix of 1..n, or strategy.job-index + 1).
//
// How rapid uses a seed (pgregory.net/rapid v1.3.0, engine.go findBug):
// from its base seed s (-rapid.seed, or a random one if 0), check k
// (0-based, counting checks rejected as invalid too) runs with seed
// s + 0 + 1 + ... + k = s + k(k+1)/2, and rapid stops after -rapid.checks
// valid checks or ten times as many invalid ones. A run of c checks thus
// uses seeds in [s, s + m(m-1)/2] with m = 11c at most.
//
// Shard i of n starts at s + (i-1)·⌊(2⁶⁴-1)/n⌋ (mod 2⁶⁴): the n shards
// split the uint64 seed space into n equal ranges, each shard's seeds stay
// in its own range (shardPlan refuses a check count that could leave it),
// and the same s, i, n and checks replay the same shard. The total checks
// are split as evenly as possible, the first total mod n shards taking one
// more. Every shard needs the same s: the run's -rapid.seed (or
// RAPID_SEED), or, if none was given, defaultShardSeed, so that shards
// started without one still agree and replay.

// shardEnv names the environment variable that selects a shard.
const shardEnv = "STALLPROOF_SHARD"

// defaultShardSeed is the base seed of a sharded run given no -rapid.seed.
const defaultShardSeed uint64 = 0x57a11 // any fixed non-zero value

// maxShards bounds n: more shards than this is a typo, not a soak.
const maxShards = 10000

// invalidChecksMult is rapid's: it gives up after this many invalid
// checks per requested check.
const invalidChecksMult = 10

// shardFromEnv parses STALLPROOF_SHARD=i/n. ok is false when the variable
// is unset or empty; err says what is wrong with a malformed value.
func shardFromEnv() (shard, n int, ok bool, err error) {
	v := strings.TrimSpace(os.Getenv(shardEnv))
	if v == "" {
		return 0, 0, false, nil
	}
	shard, n, err = parseShard(v)
	if err != nil {
		return 0, 0, false, err
	}
	return shard, n, true, nil
}

// parseShard parses "i/n" with 1 ≤ i ≤ n ≤ maxShards.
func parseShard(v string) (shard, n int, err error) {
	is, ns, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, fmt.Errorf("%s=%q: want i/n, as in 1/4 (shard i of n, counted from 1)", shardEnv, v)
	}
	shard, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("%s=%q: i and n must be whole numbers, as in 1/4", shardEnv, v)
	case n < 1 || n > maxShards:
		return 0, 0, fmt.Errorf("%s=%q: n must be between 1 and %d", shardEnv, v, maxShards)
	case shard == 0:
		return 0, 0, fmt.Errorf("%s=%q: shards are counted from 1: use 1/%d to %d/%d", shardEnv, v, n, n, n)
	case shard < 1 || shard > n:
		return 0, 0, fmt.Errorf("%s=%q: i must be between 1 and %d", shardEnv, v, n)
	}
	return shard, n, nil
}

// shardPlan returns the base seed and the number of checks of shard
// (1-based) of n, for a soak of total checks from base seed base (0: none
// given, defaultShardSeed is used). It refuses fewer checks than shards (a
// shard would check nothing and pass) and more checks than a shard's seed
// range holds.
func shardPlan(total int, base uint64, shard, n int) (seed uint64, checks int, err error) {
	if shard < 1 || shard > n {
		return 0, 0, fmt.Errorf("shard %d of %d: out of range", shard, n)
	}
	if total < n {
		return 0, 0, fmt.Errorf("%d checks cannot be split over %d shards: every shard must run at least one (raise -rapid.checks)", total, n)
	}
	if base == 0 {
		base = defaultShardSeed
	}
	checks = total / n
	if shard-1 < total%n {
		checks++
	}
	stride := ^uint64(0) / uint64(n)
	if m := uint64(checks) * (invalidChecksMult + 1); n > 1 && (m >= 1<<32 || m*(m-1)/2 >= stride) {
		return 0, 0, fmt.Errorf("%d checks a shard would run past the shard's seed range; use more shards or fewer checks", checks)
	}
	seed = base + uint64(shard-1)*stride // wraps around: mod 2⁶⁴
	if seed == 0 {
		seed = 1 // rapid takes 0 for "pick a random seed"; 1 is still in this shard's range
	}
	return seed, checks, nil
}

// applyShard makes this run the shard named by STALLPROOF_SHARD, if set:
// it reads rapid's -rapid.checks (total, already set by Run or the user)
// and -rapid.seed, sets both to this shard's, and returns a function that
// restores them and a one-line description for the log, such as
// "shard 2/4: 25 of 100 checks from seed 4611686018427410225". With no
// shard selected it does nothing and returns an empty description.
func applyShard() (restore func(), desc string, err error) {
	shard, n, ok, err := shardFromEnv()
	if err != nil || !ok {
		return func() {}, "", err
	}
	cf, sf := flag.Lookup("rapid.checks"), flag.Lookup("rapid.seed")
	if cf == nil || sf == nil {
		return func() {}, "", errors.New("sharding needs rapid's -rapid.checks and -rapid.seed flags: run under go test")
	}
	total, err := strconv.Atoi(cf.Value.String())
	if err != nil {
		return func() {}, "", fmt.Errorf("-rapid.checks=%q: %w", cf.Value.String(), err)
	}
	base, err := strconv.ParseUint(sf.Value.String(), 10, 64)
	if err != nil {
		return func() {}, "", fmt.Errorf("-rapid.seed=%q: %w", sf.Value.String(), err)
	}
	seed, checks, err := shardPlan(total, base, shard, n)
	if err != nil {
		return func() {}, "", fmt.Errorf("%s=%d/%d: %w", shardEnv, shard, n, err)
	}
	if base == 0 {
		base = defaultShardSeed // what shardPlan used
	}
	oldChecks, oldSeed := cf.Value.String(), sf.Value.String()
	if err := cf.Value.Set(strconv.Itoa(checks)); err != nil {
		return func() {}, "", err
	}
	if err := sf.Value.Set(strconv.FormatUint(seed, 10)); err != nil {
		_ = cf.Value.Set(oldChecks)
		return func() {}, "", err
	}
	restore = func() {
		_ = cf.Value.Set(oldChecks)
		_ = sf.Value.Set(oldSeed)
	}
	return restore, fmt.Sprintf("shard %d/%d: %d of %d checks from seed %d (replay this shard with %s=%d/%d -rapid.checks=%d -rapid.seed=%d)",
		shard, n, checks, total, seed, shardEnv, shard, n, total, base), nil
}
