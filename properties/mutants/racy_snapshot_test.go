package mutants

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// raceDemoEnv, when set, makes TestRacySnapshotRaces run the racing
// clients itself, in the child process that the test starts.
const raceDemoEnv = "STALLPROOF_MUTANTS_RACE_DEMO"

// TestRacySnapshotRaces: under -race, clients voting at once make the race
// detector report the unlocked snapshot. The race would fail this test run,
// so the clients run in a child process (this test binary again, with
// raceDemoEnv set), and the test asserts on the child's report.
func TestRacySnapshotRaces(t *testing.T) {
	t.Parallel()
	if os.Getenv(raceDemoEnv) != "" {
		m, _ := Lookup("racy-snapshot")
		r := start(t, m)
		for range 5 { // a few rounds: on a loaded machine one may not overlap
			var vs []*voter
			for _, opt := range DefaultOptions {
				vs = append(vs, vote(t, r.addr, 500, opt))
			}
			for _, v := range vs {
				v.wait(bound)
			}
		}
		return
	}
	if !raceEnabled {
		t.Skip("needs -race")
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRacySnapshotRaces$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), raceDemoEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child passed: no race reported\n%s", out)
	}
	if !bytes.Contains(out, []byte("WARNING: DATA RACE")) || !bytes.Contains(out, []byte("mutants.(*server).snapshot")) {
		t.Fatalf("the child failed without reporting the snapshot race: %v\n%s", err, out)
	}
}
