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

// TestBrokenFails: the suite catches lockedChat through the Adapter, on
// progress, in a child process.
func TestBrokenFails(t *testing.T) {
	exampletest.Fails(t, exampletest.InProcess(lockedChat), []string{"progress"},
		properties.WithAdapter(adapter), properties.Properties("progress"))
}
