// Package wire is protocol v1 of the stallproof voting server: its exact
// rules (below), both sides of them, and a client.
//
// The server's side: the request parser ([ParseRequest], which returns a
// [Request] of a [RequestKind]) and the reply formatters ([AppendHello],
// [AppendOK], [AppendTally], [AppendErr], [AppendBye]).
//
// The client's side: the request formatters ([AppendVote], [AppendQuery],
// [AppendQuit]), the parser of the lines a server sends ([ParseMsg], which
// returns a [Msg] of a [MsgKind]; [KindOf] only names the kind), a
// [Session] that checks one client's conversation against the rules (the
// greeting, well-formed lines, tallies that never go back, a repeated
// tally only as the answer to a TALLY request, increasing OK seqs), and a
// [Client] that is a Session over a connection: Greet, Vote, Query, Quit,
// Next, Reply, WaitTally, Drain. The reference server's tests, the
// mutants' tests and the load generator are Clients; the property
// suite's protocol v1 (properties.ProtocolV1), which reads and writes its
// connections itself, gives each of its clients a Session and writes its
// requests with the formatters.
//
// The rules are the specification every protocol v1 server follows: the
// reference server (package [github.com/stallproof/stallproof/server]), the
// broken servers of package
// [github.com/stallproof/stallproof/properties/mutants], and any server
// written elsewhere. The conformance
// transcripts in the repository's top-level testdata/golden directory are
// sessions every such server must reproduce byte for byte.
//
// Everything but Client is pure (no I/O) and allocation-conscious: the
// Append functions write into a caller's buffer so a server can format
// replies without garbage. The package imports only the standard library.
//
// # Protocol v1
//
// Lines are text ending in "\n"; the server also accepts "\r\n". A line a
// client sends is at most 256 bytes, terminator included ([MaxLine]).
// The server's HELLO and TALLY lines grow with the options (up to about
// 3.5 KB with 64 options of 32 bytes), so a client must read longer lines
// ([MaxServerLine] bounds them).
//
// On connect the server sends
//
//	HELLO <opt1>,<opt2>,...
//
// the configured options, 1 to 64 of them, each 1 to 32 bytes of
// [a-z0-9_-] ([ValidOption]), in a fixed order (the HELLO order), followed at once by the
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
// Limits: a started line must end within the server's line timeout (30 s in the reference server)
// or the client is closed (slowloris); an idle client, between lines, may
// stay as long as it likes. A server may refuse clients over a connection limit (ERR busy).
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
package wire
