package chat_test

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/examples/chat"
	"github.com/stallproof/stallproof/faultnet"
)

// TestStalledClientDoesNotFreezeOthers is the hand-written faultnet test
// of PORTING.md: one client stops reading, and another must still get its
// answers.
func TestStalledClientDoesNotFreezeOthers(t *testing.T) {
	ln := faultnet.Listen(faultnet.BufferSize(4 << 10)) // a stall blocks the server after 4 KiB
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- chat.New().Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	dial := func() (*faultnet.Conn, *bufio.Reader) {
		c, err := ln.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	stalled, _ := dial()
	stalled.Inject(faultnet.StallReads()) // it never reads again

	talker, r := dial()
	talker.SetDeadline(time.Now().Add(10 * time.Second)) // generous: a frozen server never answers
	for i := range 2000 {                                // far more than the stalled client's buffer holds
		if _, err := talker.Write([]byte("SAY hi\n")); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("message %d: no answer: %v", i, err)
			}
			if strings.HasPrefix(line, "SENT ") {
				break
			}
		}
	}
	if st := stalled.Stats(); st.Unread == 0 {
		t.Errorf("the stalled client's buffer is empty: the test did not stall anything (%+v)", st)
	}
}
