// Package sse is an HTTP server of Server-Sent Events with a publish
// endpoint, in two versions: [Serve], written so that a subscriber that
// stops reading slows no one, and [ServeBroken], written the common wrong
// way, which one stalled subscriber freezes.
//
// # Protocol
//
// GET /events opens an event stream (Content-Type text/event-stream, one
// stream a connection: the response says "Connection: close"). Its first
// event says the client is subscribed:
//
//	event: subscribed
//	data: <subscriber number>
//
// and then each published message arrives as
//
//	id: <sequence number>
//	data: <message>
//
// POST /publish with the message as its body (one line of at most
// [MaxMessage] bytes) sends it to every subscriber and answers 204 No
// Content; a bad body gets 400 or 413.
//
// # The bug and the fix
//
// ServeBroken's publish handler writes and flushes the event to every
// subscriber's response while it holds the lock that guards the subscriber
// set. A subscriber that stops reading fills its connection's buffers; the
// next Flush blocks, with the lock held, and every publisher and every new
// subscriber waits behind it.
//
// Serve's publish handler only queues the event for each subscriber,
// without blocking; each subscriber's own handler goroutine writes its
// events, with a write deadline of [WriteTimeout]. A subscriber whose queue
// of [QueueLen] events is full is dropped: its stream gets a last event
// "event: dropped" if it can still be written, and the connection is closed.
package sse

import "time"

// Limits of Serve.
const (
	// MaxMessage is the longest message body a publisher may post.
	MaxMessage = 4096
	// QueueLen is how many events Serve queues for one subscriber before
	// it drops the subscriber.
	QueueLen = 256
	// WriteTimeout is how long one write to a subscriber may block before
	// Serve drops it.
	WriteTimeout = 5 * time.Second
)
