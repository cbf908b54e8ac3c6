package mutants

import "testing"

// TestBlockingQueueFreezes: once a stalled client's buffers and its 16
// queued tallies are full, the next vote blocks under the tally lock and
// no vote of anyone is answered again.
func TestBlockingQueueFreezes(t *testing.T) { demoFreeze(t, "blocking-queue") }

// TestDeepBlockingQueueFreezes: the same with 1024 queued tallies.
func TestDeepBlockingQueueFreezes(t *testing.T) { demoFreeze(t, "deep-blocking-queue") }
