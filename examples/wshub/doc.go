// Package wshub is a WebSocket broadcast hub built on
// github.com/gorilla/websocket, in two versions: [Serve], the well-known
// hub pattern in which a client that stops reading slows no one, and
// [ServeBroken], written the common wrong way, which one stalled client
// freezes.
//
// # Protocol
//
// A client opens a WebSocket at /ws. Its first message from the server is
// the text "joined <client number>", sent once the hub counts it in. Every
// text message a client sends, at most [MaxMessage] bytes, is broadcast to
// every client, the sender included, as a text message.
//
// # The bug and the fix
//
// ServeBroken writes each message to every connection while it holds the
// lock that guards the set of connections. A client that stops reading
// fills its connection's buffers; the next write to it blocks, with the lock
// held, and every client that sends, and every new client, waits behind it.
//
// Serve is the hub pattern of gorilla/websocket's chat example: one
// goroutine owns the set of clients; each client has a reader goroutine and
// a writer goroutine, the only one that writes to its connection, fed by a
// channel of [QueueLen] messages. A broadcast never blocks: a client whose
// channel is full is dropped, and its writer sends it a close message
// (1008, "slow consumer") and closes the connection. Every write has a
// deadline of [WriteTimeout].
package wshub

import "time"

// Limits of Serve.
const (
	// MaxMessage is the longest message a client may send; a longer one
	// closes its connection.
	MaxMessage = 4096
	// QueueLen is how many messages Serve queues for one client before it
	// drops the client.
	QueueLen = 256
	// WriteTimeout is how long one write to a client may block before
	// Serve drops it.
	WriteTimeout = 5 * time.Second
)
