package sse_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/stallproof/stallproof/properties"
)

// protocol describes the event server to the suite with net/http's own
// client, over the suite's connections: publishers POST messages (a
// request is answered by the 204), subscribers hold an event stream open
// and receive each message as an event (a push).
var protocol = properties.Protocol{
	Name: "sse (net/http)",
	Roles: []properties.Role{
		{Name: "publisher", Publishes: true},
		{Name: "subscriber", Subscribes: true},
	},
	Connect:            connectSSE,
	ConcurrentRequests: true, // an http.Client may be used from many goroutines
}

// sseClient is one client: a publisher's http.Client, or a subscriber's
// open stream.
type sseClient struct {
	id     int
	http   *http.Client
	tr     *http.Transport
	body   io.ReadCloser // a subscriber's stream
	ended  chan struct{} // closed when a subscriber's stream ends
	cancel context.CancelFunc
}

func connectSSE(ctx context.Context, dial properties.DialFunc, info properties.ClientInfo, onPush func([]byte)) (properties.Client, error) {
	// A subscriber holds one stream; a publisher may publish from as many
	// connections as the suite makes requests at once.
	conns := 1
	if info.Role != "subscriber" {
		conns = properties.MaxConcurrentRequests
	}
	tr := &http.Transport{DialContext: dial, MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns}
	c := &sseClient{id: info.ID, http: &http.Client{Transport: tr}, tr: tr, cancel: func() {}}
	if info.Role != "subscriber" {
		return c, nil // net/http dials on the first request
	}
	// The stream outlives Connect's ctx, which bounds only the wait for
	// the subscribed event.
	sctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	stop := context.AfterFunc(ctx, cancel)
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, "http://sse.test/events", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("GET /events: %s", resp.Status)
	}
	r := bufio.NewReader(resp.Body)
	ev, err := readEvent(r)
	if !stop() || err != nil || ev.name != "subscribed" {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("waiting for the subscribed event: got %q: %w", ev.name, errors.Join(err, ctx.Err()))
	}
	c.body, c.ended = resp.Body, make(chan struct{})
	go func() {
		defer close(c.ended)
		for {
			ev, err := readEvent(r)
			if err != nil {
				return
			}
			if ev.name == "" { // a message; after "dropped" the stream ends, and Done tells the suite
				onPush([]byte(ev.data))
			}
		}
	}()
	return c, nil
}

// event is one Server-Sent Event.
type event struct {
	name, id, data string
}

// readEvent reads one event.
func readEvent(r *bufio.Reader) (event, error) {
	var ev event
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return event{}, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return ev, nil
		}
		field, value, _ := strings.Cut(line, ": ")
		switch field {
		case "event":
			ev.name = value
		case "id":
			ev.id = value
		case "data":
			ev.data = value
		}
	}
}

// Request publishes message n.
func (c *sseClient) Request(ctx context.Context, n int) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://sse.test/publish",
		strings.NewReader(fmt.Sprintf("c%d-%d", c.id, n)))
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("POST /publish: %s", resp.Status)
	}
	return nil
}

// Done is closed when a subscriber's stream has ended (after an "event:
// dropped", or the server's close); never for a publisher. The suite reads
// it: a dropped subscriber counts as told.
func (c *sseClient) Done() <-chan struct{} { return c.ended }

func (c *sseClient) Close() error {
	c.cancel()
	if c.body != nil {
		c.body.Close()
		<-c.ended
	}
	c.tr.CloseIdleConnections()
	return nil
}
