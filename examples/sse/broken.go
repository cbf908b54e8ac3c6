package sse

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
)

// ServeBroken runs the event server written the common wrong way: the
// publish handler writes and flushes each event to every subscriber while
// it holds the lock that guards the subscriber set. While every subscriber
// reads, it works and passes the race detector. Once one subscriber stops
// reading and its buffers fill, a Flush blocks with the lock held, and
// every publish and every new subscriber after that waits forever. It is
// here to be caught; use [Serve].
func ServeBroken(ctx context.Context, ln net.Listener) error {
	h := &brokenHub{subs: map[*brokenSub]struct{}{}}
	return serve(ctx, ln, h.events, h.publish)
}

type brokenHub struct {
	mu       sync.Mutex
	subs     map[*brokenSub]struct{}
	ids, seq uint64
}

type brokenSub struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (h *brokenHub) events(w http.ResponseWriter, r *http.Request) {
	if !streamHeaders(w, r) {
		return
	}
	s := &brokenSub{w: w, rc: http.NewResponseController(w)}
	h.mu.Lock()
	h.ids++
	h.subs[s] = struct{}{}
	io.WriteString(w, subscribedEvent(h.ids))
	s.rc.Flush()
	h.mu.Unlock()
	<-r.Context().Done() // the client went, or Serve stops; the publishers write to w meanwhile
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

func (h *brokenHub) publish(w http.ResponseWriter, r *http.Request) {
	msg, ok := readMessage(w, r)
	if !ok {
		return
	}
	h.mu.Lock()
	h.seq++
	ev := messageEvent(h.seq, msg)
	for s := range h.subs {
		io.WriteString(s.w, ev)
		s.rc.Flush() // under the lock: the bug
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
