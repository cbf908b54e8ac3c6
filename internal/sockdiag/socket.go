package sockdiag

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Sentinel errors.
var (
	// ErrNotFound is returned by Lookup when no TCP socket has the given
	// local and remote address: it was never there, or it has closed and
	// gone (a socket in TIME_WAIT is still found, with its State).
	ErrNotFound = errors.New("sockdiag: no such socket")
	// ErrUnsupported is returned where the kernel's socket diagnostics are
	// not available: on every system but Linux, by Open on a kernel built
	// without tcp_diag, and by ShrinkSendBuffer on kernels before 5.6 and
	// on architectures whose pidfd system call numbers it does not know.
	ErrUnsupported = errors.New("sockdiag: not supported on this system")
)

// State is a TCP socket's state as the kernel numbers it (TCP_ESTABLISHED
// is 1, TCP_CLOSE_WAIT 8, ...).
type State uint8

// The states in which a process can write to a socket.
const (
	Established State = 1
	CloseWait   State = 8
)

var stateNames = [...]string{"", "ESTABLISHED", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1",
	"FIN-WAIT-2", "TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
	"NEW-SYN-RECV", "BOUND-INACTIVE"}

// String returns the state's name as ss(8) prints it: "ESTABLISHED".
func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Socket is what the kernel says about one TCP socket at one moment.
type Socket struct {
	// Local and Remote are the socket's own address and its peer's; an
	// IPv4 address is never given in its IPv4-mapped IPv6 form.
	Local, Remote netip.AddrPort
	// State is the TCP state.
	State State
	// Inode is the socket's inode number: /proc/PID/fd/N of a process
	// holding it links to "socket:[Inode]". It is 0 while a connection
	// waits in its listener's queue, before the server accepts it.
	Inode uint64
	// UID is the socket's owner: the effective user of the process that
	// created it.
	UID uint32
	// SendQueue is the bytes written by the process and not yet
	// acknowledged by the peer (sent or not); RecvQueue is the bytes
	// received and not yet read by the process.
	SendQueue, RecvQueue uint32
	// SendBuffer is the socket's send buffer limit (sk_sndbuf, the doubled
	// value setsockopt(SO_SNDBUF) leaves), and WriteQueued the memory its
	// write queue holds against that limit (sk_wmem_queued: payload plus
	// per-segment overhead). Both are 0 when HasMemInfo is false.
	SendBuffer, WriteQueued int
	// NotSent is the bytes written but not yet sent (tcpi_notsent_bytes).
	NotSent uint32
	// PeerWindow is the receive window the peer last advertised, scaled,
	// in bytes (tcpi_snd_wnd): 0 when the peer's receive buffer is full.
	// Behind a reader that stopped it can stay above 0 for a few hundred
	// milliseconds after the writer blocked (measured on loopback: 95232,
	// then 15360 bytes, 0 after about 260 ms), until the sender's timers
	// push the last bytes into it.
	// It is meaningful only when HasPeerWindow (kernels from 5.4 report it).
	PeerWindow uint32
	// Probes is the zero-window probes sent without answer
	// (tcpi_probes); Backoff the retransmission timer's backoff.
	Probes, Backoff uint8
	// HasMemInfo and HasPeerWindow say whether the kernel returned the
	// socket's memory figures and a tcp_info long enough to hold
	// tcpi_snd_wnd (a socket in TIME_WAIT has neither).
	HasMemInfo, HasPeerWindow bool
}

// WriteBlocked reports whether a writer to the socket is held up: the
// socket is in a state that accepts writes (ESTABLISHED, CLOSE-WAIT) and
// either
//
//   - its write queue is at its limit, WriteQueued >= SendBuffer: the
//     kernel's own test (sk_stream_memory_free), made by tcp_sendmsg before
//     each new segment and by poll; a write now waits (Go's Write parks),
//     after at most topping up the last queued segment (up to 64 KiB on
//     loopback); or
//   - the peer's window is 0 and the queue is above the level at which the
//     kernel wakes a waiting writer (sk_stream_is_writeable: free space
//     SendBuffer-WriteQueued at least half of WriteQueued). A writer that
//     hit the limit stays waiting here; this case matters because
//     autotuning often raises the limit after the writer blocked, while
//     ACKs still arrive. A writer that has not hit the limit yet could
//     still add SendBuffer-WriteQueued bytes.
//
// A waiting writer is woken once the peer has read enough for the free
// space to reach half the queue (about a third of the limit free).
func (s Socket) WriteBlocked() bool {
	if !s.HasMemInfo || s.SendBuffer <= 0 {
		return false
	}
	if s.State != Established && s.State != CloseWait {
		return false
	}
	if s.WriteQueued >= s.SendBuffer {
		return true
	}
	return s.HasPeerWindow && s.PeerWindow == 0 && s.SendBuffer-s.WriteQueued < s.WriteQueued/2
}

// String describes the socket on one line, for event logs:
// "127.0.0.1:9000->127.0.0.1:50412 ESTABLISHED: 2621440 bytes unacked,
// queued 2703360 of sndbuf 2703360, window 0, write blocked".
func (s Socket) String() string {
	str := fmt.Sprintf("%v->%v %v: %d bytes unacked", s.Local, s.Remote, s.State, s.SendQueue)
	if s.HasMemInfo {
		str += fmt.Sprintf(", queued %d of sndbuf %d", s.WriteQueued, s.SendBuffer)
	}
	if s.HasPeerWindow {
		str += fmt.Sprintf(", window %d", s.PeerWindow)
	}
	if s.Probes > 0 {
		str += fmt.Sprintf(", %d probes", s.Probes)
	}
	if s.WriteBlocked() {
		str += ", write blocked"
	}
	return str
}

// ServerSide returns, for a client's connection c, the address pair of the
// server's end of it: the client's remote address is the server's local one.
// Pass them to Lookup to see the server's socket. It returns zero values
// when c's addresses are not TCP addresses.
func ServerSide(c net.Conn) (local, remote netip.AddrPort) {
	l, okl := c.LocalAddr().(*net.TCPAddr)
	r, okr := c.RemoteAddr().(*net.TCPAddr)
	if !okl || !okr {
		return netip.AddrPort{}, netip.AddrPort{}
	}
	return unmap(r.AddrPort()), unmap(l.AddrPort())
}

// unmap returns ap with an IPv4-mapped IPv6 address as plain IPv4.
func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
