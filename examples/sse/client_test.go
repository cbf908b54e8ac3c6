package sse_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/examples/internal/servetest"
	"github.com/stallproof/stallproof/faultnet"
)

// bound is how long a healthy client waits for an answer: generous, since a
// frozen server is infinitely slow.
const bound = 5 * time.Second

// event is one Server-Sent Event.
type event struct {
	name, id, data string
}

// stream is a test subscriber: net/http's client over its own connection.
type stream struct {
	conn   *faultnet.Conn
	body   io.ReadCloser
	r      *bufio.Reader
	events chan event // read by a goroutine of its own, closed at the end
	err    error      // why the stream ended; read after events is closed
	stall  *faultnet.Injection
}

func httpClient(srv *servetest.Server) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: srv.DialContext}, Timeout: bound}
}

// subscribe opens an event stream and waits for its subscribed event.
func subscribe(t *testing.T, srv *servetest.Server) *stream {
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
	s := &stream{conn: srv.Last(), body: resp.Body, r: bufio.NewReader(resp.Body), events: make(chan event, 1<<14)}
	go s.read()
	if ev := s.next(t); ev.name != "subscribed" {
		t.Fatalf("first event %+v, want subscribed", ev)
	}
	return s
}

func (s *stream) read() {
	defer close(s.events)
	var ev event
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.err = err
			return
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			s.events <- ev
			ev = event{}
			continue
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

// next returns the next event within bound.
func (s *stream) next(t *testing.T) event {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("the stream ended: %v", s.err)
		}
		return ev
	case <-time.After(bound):
		t.Fatalf("no event within %v", bound)
	}
	panic("unreachable")
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
