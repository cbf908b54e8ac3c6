// Package faultnet is a network for tests in which things go wrong on
// purpose, exactly, and the same way every run.
//
// A TCP server's hardest bugs appear when a client misbehaves: it stops
// reading, so the kernel's window closes and the server's Write blocks for
// seconds; it reads one byte at a time; it half-closes; it resets; or Accept
// fails because the process ran out of file descriptors. faultnet makes each
// of these happen on demand, at an exact byte count, toggled while the
// connection is live, and reproducible from a seed.
//
// # Two ways in, one fault model
//
// The in-memory network: [Pipe] returns two connected ends; [Listen] returns a
// [net.Listener] whose [Listener.Dial] method connects to it. Connections behave like
// TCP, not like [net.Pipe]: each direction has a finite buffer ([BufferSize],
// default 64 KiB, changed per end with [Conn.SetReadBuffer] and [Conn.SetWriteBuffer]), so
// a Write returns as soon as its bytes are buffered and blocks only once the
// reader has fallen a whole buffer behind: a zero window at an exact byte
// count. Either end can half-close. The accept queue has a backlog. Addresses
// are 127.0.0.1 TCP addresses. No goroutine runs per connection or per
// byte: callers block on a [sync.Cond] and deadlines are [time.AfterFunc]
// timers, so the network also works inside a [testing/synctest] bubble, where
// a ten-second write timeout passes in no real time.
//
// The wrappers: [Wrap], [WrapListener] and [ListenTCP] put the same fault controls
// on real connections, usually loopback TCP. [SocketBufferSize] (or
// [SetSocketBufferSize]) makes their socket buffers small, so a stalled
// reader blocks its peer after tens of kilobytes instead of megabytes. With
// no fault active a wrapped Read or Write costs an atomic load and an atomic
// add (its byte count) more than the raw call.
//
// Two words, two things: a buffer is the in-memory network's own window of
// one direction ([BufferSize]); a socket buffer is the kernel's (SO_SNDBUF
// and SO_RCVBUF) under a real connection, set on a live one
// ([SocketBufferSize], [SetSocketBufferSize]), before it connects
// ([SocketBufferControl]), or on both legs of a [Proxy]
// ([ProxySocketBufferSize]).
//
// Servers that a test cannot hand a listener (another process, another
// language) are reached through [Splice], which joins a faultnet connection
// to a real one with back-pressure, half-close and reset passed through, or
// through a [Proxy] ([NewProxy]), which does the same for every connection a
// real client makes to a loopback address, with faults per connection or for
// every new one.
//
// Every connection end is a *[Conn]. Faults are switched on with [Conn.Inject]
// and off with [Injection.Remove], at any time, from any goroutine.
//
// # Faults
//
// Each fault acts on one end, on its reads or on its writes; the other
// direction keeps flowing. A [Fault] is a value that prints as the call that
// made it, so a shrunk counterexample reads as a schedule:
// "AfterWritten(65536, StallReads())".
//
//	Fault                      What the end does                              What its peer sees
//	StallReads()               stops reading; Reads block                     Writes block once the buffer is full
//	BlockWrites()              its Writes block, nothing is sent              nothing arrives
//	TrickleReads(n, every)     reads at most n bytes per interval             Writes slow down once the buffer fills
//	TrickleWrites(n, every)    sends at most n bytes per interval             data arrives in dribbles
//	Bandwidth(bps)             sends at most bps bytes per second             data arrives at that rate
//	Latency(d, jitter)         its bytes arrive d±jitter later, in order      a delayed stream
//	ShortReads(n)              each Read returns at most n bytes              -
//	ShortWrites(n)             each Write is sent in pieces of ≤ n bytes      fragmented Reads
//	RandomShortReads(max)      Read sizes drawn from 1..max (seeded)          -
//	RandomShortWrites(max)     piece sizes drawn from 1..max (seeded)         fragmented Reads
//	HalfCloseWrite()           half-closes (FIN); later Writes fail: EPIPE    io.EOF after the data
//	HalfCloseRead()            Reads return io.EOF                            Writes fail: EPIPE (in memory)
//	Hangup()                   closes; its calls fail: net.ErrClosed          io.EOF, then EPIPE on write
//	Reset()                    both ends fail: ECONNRESET, data in flight lost
//	AfterRead(n, f)            f, once n more bytes are read
//	AfterWritten(n, f)         f, once n more bytes are written (a Write is cut there)
//	AfterTime(d, f)            f, after d
//	OnTrigger(t, f)            f, when the test calls t.Fire()
//
// A data limit is AfterWritten(n, HalfCloseWrite()) (the peer reads exactly n
// bytes, then io.EOF) or AfterWritten(n, Reset()) (cut at n, in-flight
// bytes lost).
//
// Listener faults: [Listener.FailAccepts](k) makes the next k Accepts fail with a
// Temporary EMFILE error; [Listener.PauseAccept] stops accepting while dials still
// complete into the backlog; [Listener.HoldDials] catches a dial so the test decides
// when, and whether, it connects.
//
// # Guarantees
//
//   - Errors are a TCP socket's (see Errors below). Test them with
//     [errors.Is], as for real sockets.
//   - A Write that fails part way returns the number of bytes it buffered,
//     never more: after a timeout the peer can read exactly those; a reset
//     drops what was in flight, as TCP's does. The exact data limit is
//     AfterWritten(n, HalfCloseWrite()): the peer reads n bytes, then io.EOF.
//   - Deadlines apply to blocked and stalled calls alike, and may be changed
//     while a call is blocked. All methods are safe for concurrent use, and
//     Close unblocks every call.
//   - Randomness (jitter, random fragment sizes) comes only from a seeded
//     source per connection and direction ([Seed], default 0), so a schedule
//     replays exactly.
//   - [Conn.Stats] counts bytes written, read and in flight, and time spent
//     blocked; [Conn.Events] logs every fault injected, fired and removed, and
//     every time a buffer filled, with times and byte offsets ([OnEvent]
//     streams them).
//
// # Errors
//
// The errors faultnet returns are the ones a real TCP socket returns, so a
// server's real error paths run:
//
//   - after a local Close: a *[net.OpError] wrapping [net.ErrClosed];
//   - after a reset: a *[net.OpError] wrapping an *[os.SyscallError] wrapping
//     [syscall.ECONNRESET] ("read: connection reset by peer");
//   - writing after CloseWrite, or to a peer that called CloseRead or Close:
//     [syscall.EPIPE], wrapped the same way ("write: broken pipe");
//   - a passed deadline: a *[net.OpError] wrapping [os.ErrDeadlineExceeded], so
//     both [net.Error].Timeout() and errors.Is(err, os.ErrDeadlineExceeded) hold;
//   - reading after the peer's CloseWrite or Close: [io.EOF], unwrapped, as
//     package net returns it;
//   - an accept error injected by [Listener.FailAccepts]: [syscall.EMFILE],
//     whose Temporary() is true;
//   - dialing a closed or refusing listener: [syscall.ECONNREFUSED];
//   - a dial that a [DialHold] failed without naming an error: [ErrHeld].
//
// Test with errors.Is: errors.Is(err, syscall.ECONNRESET),
// errors.Is(err, net.ErrClosed).
//
// # Differences from a kernel
//
// In memory, Close with unread data resets the connection, as Linux does,
// and a write to a closed peer fails at once rather than on the second
// write. CloseRead in memory makes the peer's writes fail; on a wrapped
// Linux socket the peer may keep writing. Latency on a wrapped connection
// delays the writer rather than the bytes in flight.
package faultnet
