// Package server is the stallproof reference voting server: a TCP server
// with thousands of clients, shared state (a tally) and broadcast (every
// client is pushed the tally as it changes), that stays live when clients
// stop reading, and never loses or double-counts a vote.
//
// Run one with [New] and [Server.Serve]; stop it with [Server.Shutdown] or
// [Server.Close]; read its counters with [Server.Stats], or publish them
// with expvar through [Server.Var]. [Config]'s zero value is safe: every
// limit and timeout has a real default. The package imports only the
// standard library and its own codec, package wire.
//
// # Protocol v1
//
// Lines are text ending in "\n"; the server also accepts "\r\n". A line a
// client sends is at most 256 bytes, terminator included (wire.MaxLine).
// The server's HELLO and TALLY lines grow with the options (up to about
// 3.5 KB with 64 options of 32 bytes), so a client must read longer lines.
//
// On connect the server sends
//
//	HELLO <opt1>,<opt2>,...
//
// the configured options, 1 to 64 of them, each 1 to 32 bytes of
// [a-z0-9_-], in a fixed order (the HELLO order), followed at once by the
// current tally (a TALLY line, below; "TALLY 0 ..." on a new server).
//
// Requests, and the reply to each:
//
//	VOTE <opt>   OK <seq>    the vote is counted before the reply is sent; seq is
//	                         its 1-based position in the server's single total
//	                         order of votes, so every tally with seq >= it includes it
//	TALLY        TALLY ...   the current tally, which includes every vote this
//	                         client was told OK for
//	QUIT         BYE         then the server closes the connection
//
// Anything else is answered "ERR <code> <text>", and the connection stays
// open: code "unknown-option" for a VOTE of a well-formed name that is not
// an option, "bad-request" for every other line (text says why). Two
// errors are followed by a close instead: "ERR line-too-long" for a line
// over 256 bytes (the framing can no longer be trusted), and "ERR busy" to
// a client over the connection limit, right after it connects (no HELLO).
// While the server shuts down, every request but QUIT is answered
// "ERR shutting-down"; the server then sends each client its queued
// replies and the latest tally, and closes it.
//
// The server pushes tallies at any time between replies:
//
//	TALLY <seq> <opt1>=<n1> <opt2>=<n2> ...
//
// with the options in HELLO order and n1+n2+... = seq. The counts in
// TALLY k are exactly the votes with seq <= k: a tally is never torn.
//
// Ordering, per client:
//   - Replies come in request order, one per request; pushed TALLY lines
//     interleave with them.
//   - The seqs of the TALLY lines a client receives never go back. A pushed
//     TALLY has a seq greater than every TALLY before it; a TALLY sent as a
//     reply has a seq at least that of every TALLY before it, so a repeated
//     seq can only be a reply to a TALLY request. A client may skip seqs
//     (conflation): a slow client gets the newest tally, not every one.
//   - A client that keeps reading receives the latest tally soon after the
//     last vote.
//
// Half-close: when a client closes its write side, the server answers every
// complete line it received before EOF, sends the latest tally if the
// client has not had it, then closes. An incomplete last line is dropped.
//
// Limits: a started line must end within Config.LineTimeout (default 30 s)
// or the client is closed (slowloris); an idle client, between lines, may
// stay as long as it likes. At most Config.MaxConns clients (default 10,000).
//
// A session, with nc (> is typed, < is the server):
//
//	$ nc 127.0.0.1 9000
//	< HELLO red,green,blue
//	< TALLY 0 red=0 green=0 blue=0
//	> VOTE red
//	< OK 1
//	< TALLY 1 red=1 green=0 blue=0
//	> VOTE pink
//	< ERR unknown-option no such option: pink
//	> TALLY
//	< TALLY 1 red=1 green=0 blue=0
//	> QUIT
//	< BYE
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
