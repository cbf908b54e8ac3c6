package sockdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Netlink sock_diag constants (linux/sock_diag.h, linux/inet_diag.h).
const (
	sockDiagByFamily = 20         // SOCK_DIAG_BY_FAMILY
	inetDiagInfo     = 2          // INET_DIAG_INFO: struct tcp_info
	inetDiagMemInfo  = 7          // INET_DIAG_SKMEMINFO: u32[SK_MEMINFO_VARS]
	noCookie         = 0xffffffff // INET_DIAG_NOCOOKIE
	reqLen           = 56         // sizeof(struct inet_diag_req_v2)
	msgLen           = 72         // sizeof(struct inet_diag_msg)
	memSndbuf        = 3          // SK_MEMINFO_SNDBUF
	memWmemQueued    = 5          // SK_MEMINFO_WMEM_QUEUED
	// Offsets in struct tcp_info.
	infoProbes  = 3
	infoBackoff = 4
	infoNotSent = 144 // tcpi_notsent_bytes (Linux 4.6)
	infoSndWnd  = 228 // tcpi_snd_wnd (Linux 5.4)
)

// Conn is a netlink socket that asks the kernel about TCP sockets. It is
// safe for concurrent use; requests are made one at a time.
type Conn struct {
	mu     sync.Mutex
	fd     int // -1 once closed
	seq    uint32
	kernel syscall.SockaddrNetlink
	req    [syscall.SizeofNlMsghdr + reqLen]byte
	buf    [8192]byte
}

// Open returns a Conn. A netlink socket belongs to the network namespace
// of the thread that creates it, for its whole life: it sees only the TCP
// sockets of that namespace, whichever goroutine uses it later. To watch
// sockets inside another namespace, call Open on a thread locked
// (runtime.LockOSThread) into that namespace; the Conn can then be used
// from any goroutine.
func Open() (*Conn, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sockdiag: netlink socket: %w", err)
	}
	// The kernel answers during sendto; the timeout only bounds a wait for
	// an answer that was lost.
	tv := syscall.NsecToTimeval(int64(5 * time.Second))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("sockdiag: netlink socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("sockdiag: netlink bind: %w", err)
	}
	c := &Conn{fd: fd, kernel: syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}}
	// A dump of no states answers NLMSG_DONE if the kernel has TCP socket
	// diagnostics (tcp_diag), and ENOENT, which Lookup could not tell from
	// a closed socket, if not.
	c.seq++
	c.fillRequest(syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP, syscall.AF_INET, 0, netip.AddrPort{}, netip.AddrPort{})
	if _, err := c.roundTrip(); err != nil {
		syscall.Close(fd)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("sockdiag: the kernel has no TCP socket diagnostics (tcp_diag): %w", ErrUnsupported)
		}
		return nil, err
	}
	return c, nil
}

// Close closes the netlink socket. Lookups after Close fail with an error
// wrapping net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	err := syscall.Close(c.fd)
	c.fd = -1
	return err
}

// Lookup returns the TCP socket whose own address is local and whose peer
// is remote, in the Conn's network namespace: one exact request to the
// kernel, no dump. Both addresses must be IPv4 (or IPv4-mapped) or both
// IPv6; an IPv4 pair also finds a dual-stack IPv6 socket with those
// addresses. It returns ErrNotFound when there is no such socket.
func (c *Conn) Lookup(local, remote netip.AddrPort) (Socket, error) {
	local, remote = unmap(local), unmap(remote)
	var family uint8
	switch {
	case !local.IsValid() || !remote.IsValid():
		return Socket{}, fmt.Errorf("sockdiag: lookup %v->%v: not TCP/IP addresses", local, remote)
	case local.Addr().Is4() && remote.Addr().Is4():
		family = syscall.AF_INET
	case local.Addr().Is6() && remote.Addr().Is6():
		family = syscall.AF_INET6
	default:
		return Socket{}, fmt.Errorf("sockdiag: lookup %v->%v: not one address family", local, remote)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return Socket{}, fmt.Errorf("sockdiag: lookup: %w", net.ErrClosed)
	}
	c.seq++
	c.fillRequest(syscall.NLM_F_REQUEST, family, 0xffffffff, local, remote)
	data, err := c.roundTrip()
	if err != nil {
		return Socket{}, err
	}
	s, err := parse(data)
	if err != nil {
		return Socket{}, err
	}
	// The kernel falls back to a listening socket on the local port when no
	// connection matches: not the one asked for.
	if s.Local != local || s.Remote != remote {
		return Socket{}, ErrNotFound
	}
	return s, nil
}

// roundTrip sends c.req and returns the payload of the answer with its
// sequence number: an inet_diag_msg, or nil for the end of a dump.
func (c *Conn) roundTrip() ([]byte, error) {
	if err := syscall.Sendto(c.fd, c.req[:], 0, &c.kernel); err != nil {
		return nil, fmt.Errorf("sockdiag: netlink send: %w", err)
	}
	for {
		n, _, err := syscall.Recvfrom(c.fd, c.buf[:], 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sockdiag: netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(c.buf[:n])
		if err != nil {
			return nil, fmt.Errorf("sockdiag: netlink answer: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != c.seq {
				continue // the answer to an earlier request that gave up
			}
			switch m.Header.Type {
			case syscall.NLMSG_ERROR:
				return nil, netlinkError(m.Data)
			case syscall.NLMSG_DONE:
				return nil, nil
			case sockDiagByFamily:
				return m.Data, nil
			}
		}
	}
}

// fillRequest writes a netlink header with the given flags and an
// inet_diag_req_v2 for the sockets in the given states (a bit mask) with
// the given addresses (ignored in a dump), asking for tcp_info and memory
// figures, into c.req.
func (c *Conn) fillRequest(flags uint16, family uint8, states uint32, local, remote netip.AddrPort) {
	ne := binary.NativeEndian
	b := c.req[:]
	clear(b)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], c.seq)
	r := b[syscall.SizeofNlMsghdr:]
	r[0] = family
	r[1] = syscall.IPPROTO_TCP
	r[2] = 1<<(inetDiagInfo-1) | 1<<(inetDiagMemInfo-1)
	ne.PutUint32(r[4:], states)
	if local.IsValid() {
		putID(r[8:], local, remote)
	}
	ne.PutUint32(r[48:], noCookie)
	ne.PutUint32(r[52:], noCookie)
}

// putID writes the ports and addresses of a struct inet_diag_sockid, in
// network byte order; src is the socket's own end.
func putID(id []byte, local, remote netip.AddrPort) {
	binary.BigEndian.PutUint16(id[0:], local.Port())
	binary.BigEndian.PutUint16(id[2:], remote.Port())
	putAddr(id[4:20], local.Addr())
	putAddr(id[20:36], remote.Addr())
}

func putAddr(b []byte, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
		return
	}
	v := a.As16()
	copy(b, v[:])
}

// netlinkError turns a netlink error message's payload into an error.
func netlinkError(data []byte) error {
	if len(data) < 4 {
		return fmt.Errorf("sockdiag: short netlink error")
	}
	errno := syscall.Errno(-int32(binary.NativeEndian.Uint32(data)))
	if errno == syscall.ENOENT {
		return ErrNotFound
	}
	return fmt.Errorf("sockdiag: lookup: %w", errno)
}

// parse reads a struct inet_diag_msg and its attributes.
func parse(data []byte) (Socket, error) {
	if len(data) < msgLen {
		return Socket{}, fmt.Errorf("sockdiag: short inet_diag_msg (%d bytes)", len(data))
	}
	ne := binary.NativeEndian
	s := Socket{
		Local:     addrPort(data[0], data[8:24], data[4:6]),
		Remote:    addrPort(data[0], data[24:40], data[6:8]),
		State:     State(data[1]),
		RecvQueue: ne.Uint32(data[56:]),
		SendQueue: ne.Uint32(data[60:]),
		UID:       ne.Uint32(data[64:]),
		Inode:     uint64(ne.Uint32(data[68:])),
	}
	for a := data[msgLen:]; len(a) >= 4; {
		l := int(ne.Uint16(a[0:]))
		if l < 4 || l > len(a) {
			break
		}
		v := a[4:l]
		switch ne.Uint16(a[2:]) & 0x3fff {
		case inetDiagInfo:
			if len(v) > infoBackoff {
				s.Probes, s.Backoff = v[infoProbes], v[infoBackoff]
			}
			if len(v) >= infoNotSent+4 {
				s.NotSent = ne.Uint32(v[infoNotSent:])
			}
			if len(v) >= infoSndWnd+4 {
				s.PeerWindow, s.HasPeerWindow = ne.Uint32(v[infoSndWnd:]), true
			}
		case inetDiagMemInfo:
			if len(v) >= 4*(memWmemQueued+1) {
				s.SendBuffer = int(ne.Uint32(v[4*memSndbuf:]))
				s.WriteQueued = int(ne.Uint32(v[4*memWmemQueued:]))
				s.HasMemInfo = true
			}
		}
		a = a[min((l+3)&^3, len(a)):]
	}
	return s, nil
}

// addrPort reads an address of the given family and a big-endian port;
// an IPv4-mapped IPv6 address comes back as IPv4.
func addrPort(family uint8, addr, port []byte) netip.AddrPort {
	var a netip.Addr
	if family == syscall.AF_INET {
		a = netip.AddrFrom4([4]byte(addr[:4]))
	} else {
		a = netip.AddrFrom16([16]byte(addr)).Unmap()
	}
	return netip.AddrPortFrom(a, binary.BigEndian.Uint16(port))
}
