package sse_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/examples/internal/exampletest"
	"github.com/stallproof/stallproof/faultnet"
)

// stream is a test subscriber: net/http's client over its own connection.
type stream struct {
	conn   *faultnet.Conn
	body   io.ReadCloser
	events *exampletest.Inbox[event]
	stall  *faultnet.Injection
}

func httpClient(srv *exampletest.Server) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: srv.DialContext}, Timeout: exampletest.Bound}
}

// subscribe opens an event stream and waits for its subscribed event.
func subscribe(t *testing.T, srv *exampletest.Server) *stream {
	t.Helper()
	tr := &http.Transport{DialContext: srv.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://sse.test/events", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("GET /events: %s, Content-Type %q", resp.Status, ct)
	}
	r := bufio.NewReader(resp.Body)
	s := &stream{conn: srv.Last(), body: resp.Body, events: exampletest.Receive(func() (event, error) { return readEvent(r) })}
	if ev := s.next(t); ev.name != "subscribed" {
		t.Fatalf("first event %+v, want subscribed", ev)
	}
	return s
}

// next returns the next event within exampletest.Bound.
func (s *stream) next(t *testing.T) event {
	t.Helper()
	ev, err := s.events.Next()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// publish posts msg and returns the response's status, or an error.
func publish(c *http.Client, msg string) (int, error) {
	resp, err := c.Post("http://sse.test/publish", "text/plain", strings.NewReader(msg))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func payload(i int) string { return fmt.Sprintf("%05d-%s", i, strings.Repeat("p", 90)) }
