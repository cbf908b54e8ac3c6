package sse

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Serve runs the event server on ln until ctx ends, then ends every stream
// and returns once all its handlers have returned.
func Serve(ctx context.Context, ln net.Listener) error {
	h := &hub{subs: map[*subscriber]struct{}{}}
	return serve(ctx, ln, h.events, h.publish)
}

type hub struct {
	mu       sync.Mutex
	subs     map[*subscriber]struct{}
	ids, seq uint64
}

// subscriber is one event stream; its handler alone writes to it.
type subscriber struct {
	events  chan string
	dropped chan struct{} // closed when the hub gives up on it
}

func (h *hub) events(w http.ResponseWriter, r *http.Request) {
	if !streamHeaders(w, r) {
		return
	}
	s := &subscriber{events: make(chan string, QueueLen), dropped: make(chan struct{})}
	h.mu.Lock()
	h.ids++
	id := h.ids
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	defer h.remove(s)

	rc := http.NewResponseController(w)
	send := func(ev string) error {
		rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
		io.WriteString(w, ev)
		for more := true; more; { // batch what is queued into one flush
			select {
			case ev := <-s.events:
				io.WriteString(w, ev)
			default:
				more = false
			}
		}
		return rc.Flush()
	}
	if send(subscribedEvent(id)) != nil {
		return
	}
	for {
		select {
		case ev := <-s.events:
			if send(ev) != nil {
				return
			}
		case <-s.dropped:
			rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
			io.WriteString(w, droppedEvent)
			rc.Flush()
			return
		case <-r.Context().Done(): // the client went, or Serve stops
			return
		}
	}
}

// remove forgets s.
func (h *hub) remove(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

func (h *hub) publish(w http.ResponseWriter, r *http.Request) {
	msg, ok := readMessage(w, r)
	if !ok {
		return
	}
	h.mu.Lock()
	h.seq++
	ev := messageEvent(h.seq, msg)
	for s := range h.subs {
		select {
		case s.events <- ev: // never blocks
		default:
			delete(h.subs, s) // a slow consumer: drop it
			close(s.dropped)
		}
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
