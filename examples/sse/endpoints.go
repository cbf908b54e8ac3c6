package sse

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/stallproof/stallproof/examples/internal/httpserve"
)

// serve serves both versions' endpoints on ln until ctx ends, then ends
// every request's context, which ends the event streams, and returns once
// every handler has returned.
func serve(ctx context.Context, ln net.Listener, events, publish http.HandlerFunc) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/events", events)
	mux.HandleFunc("/publish", publish)
	return httpserve.Serve(ctx, ln, mux, nil)
}

// readMessage reads a publish request's message, or answers the request
// with an error and returns false.
func readMessage(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a message", http.StatusMethodNotAllowed)
		return nil, false
	}
	msg, err := io.ReadAll(io.LimitReader(r.Body, MaxMessage+1))
	switch {
	case err != nil:
		http.Error(w, "reading the message: "+err.Error(), http.StatusBadRequest)
		return nil, false
	case len(msg) > MaxMessage:
		http.Error(w, fmt.Sprintf("message longer than %d bytes", MaxMessage), http.StatusRequestEntityTooLarge)
		return nil, false
	case bytes.ContainsAny(msg, "\r\n"):
		http.Error(w, "a message is one line", http.StatusBadRequest)
		return nil, false
	}
	return msg, true
}

// streamHeaders starts an event stream's response, or answers a request
// that is not a GET and returns false.
func streamHeaders(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet {
		http.Error(w, "GET the event stream", http.StatusMethodNotAllowed)
		return false
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "close") // one stream a connection: its end is the connection's
	return true
}

func subscribedEvent(id uint64) string { return fmt.Sprintf("event: subscribed\ndata: %d\n\n", id) }

func messageEvent(seq uint64, msg []byte) string {
	return fmt.Sprintf("id: %d\ndata: %s\n\n", seq, msg)
}

const droppedEvent = "event: dropped\ndata: slow consumer\n\n"
