package exampletest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties"
)

// Bound is how long a healthy client of an example's unit tests waits for
// an answer: generous, since a frozen server is infinitely slow.
const Bound = 5 * time.Second

// stopBound is how long a server started by Start gets to return from
// Serve once its context is cancelled.
const stopBound = 10 * time.Second

// Server is an example server running on an in-memory listener.
type Server struct {
	Listener *faultnet.Listener

	mu    sync.Mutex
	conns []*faultnet.Conn
}

// Start runs serve on a fresh in-memory listener whose connections have
// buffers of bufSize bytes each way, and registers a cleanup that cancels
// it and fails t if Serve returns an error or has not returned within
// stopBound.
func Start(t testing.TB, serve properties.ServeFunc, bufSize int) *Server {
	t.Helper()
	ln := faultnet.Listen(faultnet.BufferSize(bufSize))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	s := &Server{Listener: ln}
	t.Cleanup(func() {
		cancel()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(stopBound):
			t.Errorf("Serve did not return within %v of its context's end", stopBound)
		}
	})
	return s
}

// Both runs test in a subtest against each version of an example, "Serve"
// (fixed) and "ServeBroken", each started with 64 KiB buffers: for what
// both versions do alike while every client reads.
func Both(t *testing.T, fixed, broken properties.ServeFunc, test func(t *testing.T, srv *Server)) {
	t.Helper()
	for _, v := range []struct {
		name  string
		serve properties.ServeFunc
	}{{"Serve", fixed}, {"ServeBroken", broken}} {
		t.Run(v.name, func(t *testing.T) { test(t, Start(t, v.serve, 64<<10)) })
	}
}

// Dial connects a new client. The connection is closed at cleanup.
func (s *Server) Dial(ctx context.Context) (*faultnet.Conn, error) {
	c, err := s.Listener.Dial(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	return c, nil
}

// DialContext is Dial in the shape client libraries take as a dialer hook
// (net.Dialer.DialContext, http.Transport.DialContext, a WebSocket
// dialer's NetDialContext); the address is ignored. The connection it made
// last is returned by Last, so a test can inject faults on it.
func (s *Server) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	return s.Dial(ctx)
}

// Last returns the connection dialed last, or nil.
func (s *Server) Last() *faultnet.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		return nil
	}
	return s.conns[len(s.conns)-1]
}
