// Package pubsub is a small publish/subscribe server with a line protocol,
// in two versions: [Serve], written so one subscriber that stops reading
// slows no one, and [ServeBroken], written the common wrong way, which one
// stalled subscriber freezes.
//
// # Protocol
//
// Lines end in "\n" and are at most [MaxLine] bytes. A client sends:
//
//	PING               → PONG
//	SUB <topic>        → OK            (the client now receives the topic's messages)
//	PUB <topic> <msg>  → OK            (every subscriber of topic gets "MSG <topic> <msg>")
//	anything else      → ERR <reason>
//
// A subscriber only listens: after its SUB it reads the pushed MSG lines
// and sends nothing more. The server sends no greeting.
//
// # The bug and the fix
//
// ServeBroken writes each MSG line to every subscriber while it holds the
// lock that guards the subscriber lists. A subscriber that stops reading
// fills its connection's buffers; the next Write to it blocks, with the lock
// held, and every publisher and every other subscriber waits behind it.
//
// Serve never does I/O under its lock. As in NATS, each client has one
// writer goroutine that takes the client's pending bytes, at most
// [MaxPending], and writes them with no lock held; a publish only appends
// to each subscriber's pending bytes, without blocking, and a subscriber
// whose pending bytes would pass MaxPending is disconnected (a slow
// consumer), as is one whose writes stay blocked for [WriteTimeout]. A
// client's own replies wait for room instead, so a client that sends
// without reading its replies is simply no longer read: TCP pushes back on
// it.
package pubsub

import "time"

// Limits of Serve.
const (
	// MaxLine is the longest line a client may send, "\n" included; a
	// longer one gets "ERR line too long" and the connection is closed.
	MaxLine = 1024
	// MaxPending is how many bytes Serve holds for one client that has not
	// read them yet; a subscriber that would pass it is disconnected.
	MaxPending = 256 << 10
	// WriteTimeout is how long one write to a client may block before
	// Serve disconnects it.
	WriteTimeout = 5 * time.Second
)
