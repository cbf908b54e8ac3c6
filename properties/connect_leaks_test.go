package properties_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stallproof/stallproof/properties"
)

// The leak check after Serve returned keeps a client library's stalled
// subscribers stalled, as it keeps wire clients: a library's goroutines
// carry the suite's client label and are not the server's. Closing them
// first (as the suite did before labels) would set free a server
// goroutine blocked writing to one, and hide the leak.
func TestLeaksSeeWritersBlockedOnLibraryClients(t *testing.T) {
	if os.Getenv(feedEnv) != "" {
		t.Skip("in a child")
	}
	needLabels(t) // without labels, library clients are closed first
	properties.Run(t, feedServer(true), properties.WithProtocol(feedProtocol()), properties.Properties("leaks"), properties.Checks(5))
}

// TestLeaksFindWritersLeftOnLibraryClients is the other half of
// TestLeaksSeeWritersBlockedOnLibraryClients: the feed server whose Serve
// returns before a writer blocked on a stalled library subscriber fails
// leaks. Its Run is a child's, so it runs beside other tests.
func TestLeaksFindWritersLeftOnLibraryClients(t *testing.T) {
	if os.Getenv(feedEnv) != "" {
		t.Skip("in a child")
	}
	needLabels(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	out, err := childTest(ctx, "^TestFeedChild$", feedEnv+"=1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "goroutines remain after Serve returned") {
		t.Fatalf("want leaks to fail after Serve returned (failed: %v):\n%s", err != nil, out)
	}
}

// feedEnv makes TestFeedChild run.
const feedEnv = "STALLPROOF_FEED_CHILD"

// TestFeedChild runs leaks against the feed server that returns before
// its writers, in a child of TestLeaksFindWritersLeftOnLibraryClients.
func TestFeedChild(t *testing.T) {
	if os.Getenv(feedEnv) == "" {
		t.Skip("runs only as a child of TestLeaksFindWritersLeftOnLibraryClients")
	}
	properties.Run(t, feedServer(false), properties.WithProtocol(feedProtocol()), properties.Properties("leaks"), properties.Checks(5))
}

// feedProtocol is a line protocol ("PUB x" answered "OK"; every
// subscriber pushed "MSG x") whose clients come from a client library:
// feedClient.
func feedProtocol() properties.Protocol {
	return properties.Protocol{
		Name: "feed",
		Roles: []properties.Role{
			{Name: "publisher", Publishes: true},
			{Name: "subscriber", Subscribes: true},
		},
		Connect: func(ctx context.Context, dial properties.DialFunc, ci properties.ClientInfo, onPush func([]byte)) (properties.Client, error) {
			conn, err := dial(ctx, "tcp", "feed")
			if err != nil {
				return nil, err
			}
			c := &feedClient{conn: conn, replies: make(chan error, 64), done: make(chan struct{}), id: ci.ID}
			if ci.Role == "subscriber" {
				if _, err := conn.Write([]byte("SUB\n")); err != nil {
					conn.Close()
					return nil, err
				}
			}
			go c.read(onPush)
			return c, nil
		},
	}
}

// feedClient is the "library": one reader goroutine per client.
type feedClient struct {
	id      int
	conn    net.Conn
	mu      sync.Mutex // one request at a time
	replies chan error
	done    chan struct{}
}

func (c *feedClient) read(onPush func([]byte)) {
	defer close(c.done)
	sc := bufio.NewScanner(c.conn)
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.HasPrefix(line, "MSG "):
			onPush([]byte(line))
		case line == "OK":
			c.replies <- nil
		default:
			c.replies <- fmt.Errorf("server said %q", line)
		}
	}
}

func (c *feedClient) Request(ctx context.Context, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintf(c.conn, "PUB %d-%d\n", c.id, n); err != nil {
		return err
	}
	select {
	case err := <-c.replies:
		return err
	case <-c.done:
		return errors.New("connection closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *feedClient) Close() error { return c.conn.Close() }

func (c *feedClient) Done() <-chan struct{} { return c.done }

// feedServer serves the feed protocol: each connection has a reader and
// a writer goroutine, and a publish queues the message for every
// subscriber, dropping one that has 64 messages queued. With wait, Serve
// closes every connection and waits for both goroutines of each before
// it returns; without, it returns as soon as its listener is closed, and
// a writer blocked on a subscriber that stopped reading stays so.
func feedServer(wait bool) properties.ServeFunc {
	return func(ctx context.Context, ln net.Listener) error {
		var (
			mu    sync.Mutex
			subs  = map[chan string]net.Conn{}
			conns = map[net.Conn]bool{}
			wg    sync.WaitGroup
		)
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		defer stop()
		for {
			conn, err := ln.Accept()
			if err != nil {
				break
			}
			out := make(chan string, 64)
			mu.Lock()
			conns[conn] = true
			mu.Unlock()
			wg.Go(func() { // the writer
				for line := range out {
					if _, err := conn.Write([]byte(line)); err != nil {
						return
					}
				}
			})
			wg.Go(func() { // the reader
				defer func() {
					mu.Lock()
					delete(subs, out)
					delete(conns, conn)
					mu.Unlock()
					close(out)
					conn.Close()
				}()
				sc := bufio.NewScanner(conn)
				for sc.Scan() {
					line := sc.Text()
					mu.Lock()
					switch {
					case line == "SUB":
						subs[out] = conn
					case strings.HasPrefix(line, "PUB "):
						for ch, c := range subs {
							select {
							case ch <- "MSG " + line[4:] + "\n":
							default:
								c.Close() // a slow consumer
							}
						}
						if _, ok := subs[out]; !ok {
							select {
							case out <- "OK\n":
							default:
							}
						}
					}
					mu.Unlock()
				}
			})
		}
		if !wait {
			return nil
		}
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		return nil
	}
}
