// Package sockdiag reads, from the kernel, the state of the server's end of
// a client's TCP connection on this machine, so that a test that stalls a
// client (stops reading) can see when the server's writes to it block,
// rather than guess how many bytes it must push.
//
// Between a server in another process and a stalled client sit two socket
// buffers: the client's receive buffer (the window the client advertises
// until it reaches 0) and the server's send buffer, which autotuning grows
// to megabytes on loopback (net.ipv4.tcp_wmem). The server's Write blocks
// only once both are full. On loopback both ends live in one kernel, so
// [Conn.Lookup] asks it, through netlink's sock_diag (inet_diag, one exact
// request per lookup, IPv4 and IPv6), about the socket with a given local
// and remote address: its [Socket] gives the state, inode and owner, the
// bytes unacknowledged and unread, the send buffer limit (SK_MEMINFO_SNDBUF)
// and the memory queued against it (SK_MEMINFO_WMEM_QUEUED), and, from
// struct tcp_info, the window the peer advertises (tcpi_snd_wnd) and the
// zero-window probes. [Socket.WriteBlocked] says whether a writer is held
// up, by the kernel's own tests; [Conn.WaitWriteBlocked] polls until it is;
// [ServerSide] turns a client's net.Conn into the server end's addresses.
//
// [ShrinkSendBuffer] lowers the send buffer of a socket held by any process
// this one may ptrace (pidfd_getfd, then SO_SNDBUF), so that a server in
// another process blocks after kilobytes: it takes effect on an established
// connection, for the writes that follow.
//
// It is Linux-only. Elsewhere [Open] and [ShrinkSendBuffer] return [ErrUnsupported]: a caller
// falls back to pushing a guessed number of bytes and must say so in its
// report. A [Conn] sees only the sockets of the network namespace in which
// it was opened (see [Open]).
//
// Imported by package properties and cmd/stallproof (proxy); imports only
// the standard library (package syscall for netlink).
package sockdiag
