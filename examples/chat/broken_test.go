package chat_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
)

// lockedChat is the chat server written the classic wrong way: it writes
// each message to every client while holding the lock that guards the client
// list, so one client that stops reading freezes everyone. The suite must
// catch it through the Adapter, as it catches the voting mutants.
func lockedChat(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx) // ended also when Accept fails for good
	var (
		mu      sync.Mutex
		clients = map[net.Conn]bool{}
		n       int
		wg      sync.WaitGroup
	)
	err := broker.Accept(ctx, ln, func(c net.Conn) { // retries EMFILE: the lock is the only bug
		mu.Lock()
		clients[c] = true
		c.Write([]byte("WELCOME\n"))
		mu.Unlock()
		wg.Go(func() {
			// Closing c once ctx ends, without the lock, unblocks a Write
			// stuck on a stalled client, so that shutdown at least works.
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
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
		})
	})
	cancel()
	wg.Wait()
	return err
}

// TestBrokenFails: the suite catches lockedChat through the Adapter, on
// progress, in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.InProcess(lockedChat), []string{"progress"},
		properties.WithAdapter(adapter), properties.Properties("progress"))
}
