// Package httpserve runs an http.Handler on a net.Listener until a context
// ends, and returns only once every handler has returned: the Serve of the
// examples built on net/http. It is server code, not test code: the wshub
// and sse servers import it.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Grace is how long Serve lets requests in flight finish after its context
// ends, before it closes their connections.
const Grace = 200 * time.Millisecond

// Serve serves h on ln until ctx ends (or ln fails for good); then ends
// the context of every request, so that long-lived handlers (event
// streams) return, and calls stop, if not nil, for what that does not end
// (connections hijacked by a WebSocket upgrade); shuts the server down,
// giving the requests in flight Grace to finish before their connections
// are closed; and returns once every call of h has returned. It returns an
// error only if ln fails for good.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, stop func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		stopped bool
		calls   sync.WaitGroup
	)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if stopped {
				mu.Unlock()
				http.Error(w, "shutting down", http.StatusServiceUnavailable)
				return
			}
			calls.Add(1)
			mu.Unlock()
			defer calls.Done()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	case <-ctx.Done():
	}
	mu.Lock()
	stopped = true
	mu.Unlock()
	cancel()
	if stop != nil {
		stop()
	}
	sctx, cancel := context.WithTimeout(context.Background(), Grace)
	defer cancel()
	if srv.Shutdown(sctx) != nil {
		srv.Close() // unblocks handlers stuck writing to a client that does not read
	}
	if err == nil {
		<-errc
	}
	calls.Wait()
	return err
}
