package wshub

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stallproof/stallproof/examples/internal/httpserve"
)

// Serve runs the hub on ln until ctx ends, then closes every client and
// returns once all its goroutines have ended.
func Serve(ctx context.Context, ln net.Listener) error {
	h := &hub{
		conns:      map[*websocket.Conn]struct{}{},
		clients:    map[*client]struct{}{},
		register:   make(chan *client),
		unregister: make(chan *client),
		broadcast:  make(chan []byte),
		done:       make(chan struct{}),
	}
	h.wg.Add(1)
	go h.run()
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.serveWS)
	err := httpserve.Serve(ctx, ln, mux, h.stop)
	h.wg.Wait()
	return err
}

// stop ends run and closes every connection, those of dropped clients
// whose writer is still blocked included.
func (h *hub) stop() {
	close(h.done)
	h.connsMu.Lock()
	defer h.connsMu.Unlock()
	h.stopped = true
	for conn := range h.conns {
		conn.Close()
	}
}

// hub owns the set of clients: only run touches it.
type hub struct {
	clients    map[*client]struct{}
	register   chan *client
	unregister chan *client
	broadcast  chan []byte
	done       chan struct{} // closed when Serve stops
	wg         sync.WaitGroup

	connsMu sync.Mutex
	conns   map[*websocket.Conn]struct{} // every open connection, for stop
	stopped bool
}

// client is one connection: readPump reads it, writePump alone writes it.
type client struct {
	conn *websocket.Conn
	send chan []byte // closed by run when the client is dropped
}

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

func (h *hub) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	h.connsMu.Lock()
	if h.stopped {
		h.connsMu.Unlock()
		conn.Close()
		return
	}
	h.conns[conn] = struct{}{}
	h.connsMu.Unlock()
	conn.SetReadLimit(MaxMessage)
	c := &client{conn: conn, send: make(chan []byte, QueueLen)}
	select {
	case h.register <- c:
	case <-h.done:
		h.forget(conn)
		return
	}
	h.wg.Add(2)
	go h.writePump(c)
	go h.readPump(c)
}

func (h *hub) run() {
	defer h.wg.Done()
	ids := 0
	for {
		select {
		case c := <-h.register:
			ids++
			h.clients[c] = struct{}{}
			c.send <- []byte("joined " + strconv.Itoa(ids)) // its channel is empty
		case c := <-h.unregister:
			if _, ok := h.clients[c]; ok {
				delete(h.clients, c)
				close(c.send)
			}
		case msg := <-h.broadcast:
			for c := range h.clients {
				select {
				case c.send <- msg: // never blocks
				default: // a slow consumer: drop it
					delete(h.clients, c)
					close(c.send)
				}
			}
		case <-h.done:
			for c := range h.clients {
				delete(h.clients, c)
				close(c.send)
			}
			return
		}
	}
}

// forget closes conn and forgets it.
func (h *hub) forget(conn *websocket.Conn) {
	conn.Close()
	h.connsMu.Lock()
	delete(h.conns, conn)
	h.connsMu.Unlock()
}

// readPump hands each message from c to the hub, until c's connection
// fails or closes.
func (h *hub) readPump(c *client) {
	defer h.wg.Done()
	defer func() {
		select {
		case h.unregister <- c:
		case <-h.done:
		}
		h.forget(c.conn)
	}()
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		select {
		case h.broadcast <- msg:
		case <-h.done:
			return
		}
	}
}

// writePump writes c's messages; once the hub closes c.send it says why,
// if it can, and closes the connection.
func (h *hub) writePump(c *client) {
	defer h.wg.Done()
	defer c.conn.Close()
	for msg := range c.send {
		c.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
		if c.conn.WriteMessage(websocket.TextMessage, msg) != nil {
			return
		}
	}
	bye := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "slow consumer")
	c.conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(WriteTimeout))
}
