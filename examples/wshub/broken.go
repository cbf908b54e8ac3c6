package wshub

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/stallproof/stallproof/examples/internal/httpserve"
)

// ServeBroken runs the hub written the common wrong way: each message is
// written to every connection while the lock that guards the set of
// connections is held. While every client reads, it works and passes the
// race detector. Once one client stops reading and its buffers fill, a
// write blocks with the lock held, and every client that sends, and every
// new client, waits forever. It is here to be caught; use [Serve].
func ServeBroken(ctx context.Context, ln net.Listener) error {
	h := &lockedHub{conns: map[*websocket.Conn]struct{}{}, all: map[*websocket.Conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.serveWS)
	return httpserve.Serve(ctx, ln, mux, h.closeAll)
}

type lockedHub struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
	ids   int

	allMu   sync.Mutex // a lock of its own, so shutdown works at least
	stopped bool
	all     map[*websocket.Conn]struct{}
}

func (h *lockedHub) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	h.allMu.Lock()
	if h.stopped {
		h.allMu.Unlock()
		return
	}
	h.all[conn] = struct{}{}
	h.allMu.Unlock()
	conn.SetReadLimit(MaxMessage)

	h.mu.Lock()
	h.ids++
	h.conns[conn] = struct{}{}
	conn.WriteMessage(websocket.TextMessage, []byte("joined "+strconv.Itoa(h.ids)))
	h.mu.Unlock()
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			break
		}
		h.mu.Lock()
		for c := range h.conns {
			c.WriteMessage(websocket.TextMessage, msg) // under the lock: the bug
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	delete(h.conns, conn)
	h.mu.Unlock()
	h.allMu.Lock()
	delete(h.all, conn)
	h.allMu.Unlock()
}

// closeAll closes every connection, which unblocks a write stuck on a
// client that does not read.
func (h *lockedHub) closeAll() {
	h.allMu.Lock()
	defer h.allMu.Unlock()
	h.stopped = true
	for c := range h.all {
		c.Close()
	}
}
