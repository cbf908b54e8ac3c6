package mutants

import "testing"

func TestBroadcastWorkerFreezes(t *testing.T) { demoFreeze(t, "broadcast-worker") }
