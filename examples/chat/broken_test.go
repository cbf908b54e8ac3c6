package chat_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
)

// lockedChat is the chat server written the classic wrong way: it writes
// each message to every client while holding the lock that guards the client
// list, so one client that stops reading freezes everyone. The suite must
// catch it through the Adapter, as it catches the voting mutants.
func lockedChat(ctx context.Context, ln net.Listener) error {
	var (
		mu      sync.Mutex
		clients = map[net.Conn]bool{}
		n       int
		wg      sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range clients {
			c.Close() // unblocks a Write stuck on a stalled client
		}
		mu.Unlock()
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			break
		}
		mu.Lock()
		clients[c] = true
		c.Write([]byte("WELCOME\n"))
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { mu.Lock(); delete(clients, c); mu.Unlock(); c.Close() }()
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				text, _ := strings.CutPrefix(sc.Text(), "SAY ")
				mu.Lock()
				n++
				for o := range clients {
					o.Write([]byte("MSG " + strconv.Itoa(n) + " " + text + "\n")) // under the lock: the bug
				}
				c.Write([]byte("SENT " + strconv.Itoa(n) + "\n"))
				mu.Unlock()
			}
		}()
	}
	mu.Lock()
	for c := range clients {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	return nil
}

// TestLockedChatChild runs the suite against lockedChat; it runs only as a
// child of TestLockedChatIsCaught, since it must fail.
func TestLockedChatChild(t *testing.T) {
	if os.Getenv("STALLPROOF_CHAT_CHILD") == "" {
		t.Skip("runs only as a child of TestLockedChatIsCaught")
	}
	properties.Run(t, lockedChat, properties.WithAdapter(adapter), properties.Properties("progress"))
}

// TestLockedChatIsCaught proves the Adapter path catches a server that
// holds its lock across Write: the child run must fail on progress.
func TestLockedChatIsCaught(t *testing.T) {
	if os.Getenv("STALLPROOF_CHAT_CHILD") != "" {
		t.Skip("in the child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLockedChatChild$", "-test.v",
		"-rapid.nofailfile", "-rapid.shrinktime=2s")
	cmd.Env = append(os.Environ(), "STALLPROOF_CHAT_CHILD=1")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed against a chat server that writes under its lock:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\s*--- FAIL: TestLockedChatChild/progress`).Match(out) {
		t.Fatalf("the child failed, but not on progress:\n%s", out)
	}
	if m := regexp.MustCompile(`property "progress" violated: [^\n]*`).Find(out); m != nil {
		t.Logf("caught: %s", m)
	}
}
