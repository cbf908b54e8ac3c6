// Package server is the stallproof reference voting server: a TCP server
// with thousands of clients, shared state (a tally) and broadcast (every
// client is pushed the tally as it changes), that stays live when clients
// stop reading, and never loses or double-counts a vote.
//
// Run one with [New] and [Server.Serve]; stop it with [Server.Shutdown] or
// [Server.Close]; read its counters with [Server.Stats], or publish them
// with expvar through [Server.Var]. [Config]'s zero value is safe: every
// limit and timeout has a real default. The package imports only the
// standard library and the protocol v1 codec, package [wire],
// which also holds the protocol's exact rules.
//
// # Design
//
// Each client has a reader goroutine and a writer goroutine. The reader
// parses the requests in its buffer, counts the votes among them under the
// tally lock (one acquisition for up to 64 pipelined votes; the lock is
// held for the increments only: no I/O, no allocation, no channel
// operation), formats the replies and appends them to the client's reply
// queue. The writer takes everything queued, plus the newest pushed tally,
// and writes it in one Write with a deadline (Config.WriteTimeout); no
// lock is held while it writes.
//
// A vote wakes the broadcaster without blocking (a flag and a one-slot
// channel). The broadcaster copies the tally under the lock, formats one
// snapshot shared by all clients, and offers it to each client's one-slot
// mailbox, which keeps only a snapshot with a newer seq than anything the
// client was sent or has queued. Votes counted while it offers coalesce
// into its next snapshot, and it broadcasts at most once per
// Config.BroadcastInterval (5 ms): a vote after a quiet spell is pushed at
// once, and under load the broadcast costs clients × 200 writes a second
// however fast votes come. So the vote path is O(1) whatever the number of
// clients, a stalled client costs O(1) memory (one pointer), and a
// snapshot can never overwrite a newer one.
//
// Slow consumers are evicted: a write blocked longer than WriteTimeout
// (default 10 s, as in NATS), or a reply queue over Config.MaxReplyBytes
// (default 256 KiB; pushed tallies are not queued, so only a client that
// sends requests without reading the replies fills it). The client is
// closed, counted by reason in Stats.Evictions and logged once. Closing is
// idempotent and never blocks: the broadcaster only offers snapshots, it
// never writes or closes.
//
// The accept loop backs off on temporary errors (EMFILE, ENFILE, ...) from
// 5 ms, doubling to 1 s, reset after a success, and never exits on one.
// A client over MaxConns is told "ERR busy" by a short-lived goroutine,
// so the accept loop never waits for a client.
//
// Lock order: a client's lock, then the tally lock (for a TALLY reply,
// which must be queued atomically with the seq it reports). The registry
// of clients has its own lock, held to add or remove a client, or by the
// broadcaster for the non-blocking offers.
package server
