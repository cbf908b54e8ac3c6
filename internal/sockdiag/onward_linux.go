package sockdiag

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Onward reports whether the process holding the TCP socket s holds any
// other socket through which what it writes to s could have come from
// another process, or what it is sent go on to one: whether something may
// stand behind it, as a server stands behind a proxy.
//
// A process's listening sockets, the connections accepted on its
// listening ports, its netlink sockets (they talk to the kernel) and the
// Unix sockets whose peer is the process itself (a socket pair between
// its own threads, as Python's asyncio holds one) lead nowhere else; nor
// do the TCP connections for which ours, given their local address,
// returns true (the caller's own, when the server runs in its process;
// ours may be nil). Every other socket may: a TCP connection the process
// made (a proxy's to the server behind it, or a database's; a TCP socket
// not connected carries nothing, and does not count), a Unix socket
// connected to another process, a UDP socket. A relay whose backend
// connected to it, rather than the other way round, is not told from a
// client.
//
// It finds the process as ShrinkSendBuffer does, and takes each of its
// sockets with pidfd_getfd to ask the kernel what it is, so it needs the
// same rights. It returns the PID it inspected and a description of the
// first socket that leads elsewhere, or "" if there is none.
func Onward(s Socket, pidHint int, ours func(local netip.AddrPort) bool) (pid int, onward string, err error) {
	if sysPidfdGetfd == 0 {
		return 0, "", ErrUnsupported
	}
	if s.Inode == 0 {
		return 0, "", fmt.Errorf("sockdiag: %v->%v: not accepted yet, no process holds it: %w", s.Local, s.Remote, ErrNotFound)
	}
	pid, _, err = findSocket(s.Inode, pidHint)
	if err != nil {
		return 0, "", err
	}
	pidfd, err := openPidfd(pid)
	if err != nil {
		return pid, "", err
	}
	defer syscall.Close(pidfd)
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	fds, err := os.ReadDir(dir)
	if err != nil {
		return pid, "", fmt.Errorf("sockdiag: %w", err)
	}
	listening := map[uint16]bool{}
	var conns []endpoints // TCP connections: accepted, or made
	for _, f := range fds {
		if l, err := os.Readlink(dir + f.Name()); err != nil || !strings.HasPrefix(l, "socket:[") {
			continue
		}
		fd, err := strconv.Atoi(f.Name())
		if err != nil {
			continue
		}
		dup, err := takeFD(pidfd, pid, fd)
		if errors.Is(err, syscall.EBADF) {
			continue // closed since /proc was read
		}
		if err != nil {
			return pid, "", err
		}
		sk, what := inspect(dup, pid)
		syscall.Close(dup)
		switch {
		case what != "":
			return pid, what, nil
		case sk.listening:
			listening[sk.local.Port()] = true
		case sk.local.IsValid():
			conns = append(conns, sk.endpoints)
		}
	}
	for _, c := range conns {
		if !listening[c.local.Port()] && (ours == nil || !ours(c.local)) {
			return pid, fmt.Sprintf("a TCP connection it made, %v->%v", c.local, c.remote), nil
		}
	}
	return pid, "", nil
}

// endpoints are a socket's own address and its peer's.
type endpoints struct{ local, remote netip.AddrPort }

// sockInfo is what inspect learnt of one TCP socket.
type sockInfo struct {
	endpoints
	listening bool
}

// inspect asks the kernel about socket fd, a duplicate of one of process
// pid's: a TCP socket's addresses and whether it listens, or, for a
// socket that may lead to another process, what it is. A netlink socket
// and a Unix socket whose peer is pid return neither.
func inspect(fd, pid int) (sk sockInfo, onward string) {
	domain, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_DOMAIN)
	if err != nil {
		return sk, fmt.Sprintf("a socket the kernel would not describe (%v)", err)
	}
	typ, _ := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
	switch domain {
	case syscall.AF_NETLINK:
		return sk, ""
	case syscall.AF_UNIX:
		cred, err := syscall.GetsockoptUcred(fd, syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		switch {
		case err != nil || cred.Pid == 0:
			return sk, "a Unix socket with no peer process known"
		case int(cred.Pid) != pid:
			return sk, fmt.Sprintf("a Unix socket connected to process %d", cred.Pid)
		}
		return sk, ""
	case syscall.AF_INET, syscall.AF_INET6:
		if typ != syscall.SOCK_STREAM {
			if local, err := syscall.Getsockname(fd); err == nil {
				return sk, fmt.Sprintf("a datagram or raw socket at %v", addrOf(local))
			}
			return sk, "a datagram or raw socket"
		}
		local, err := syscall.Getsockname(fd)
		if err != nil {
			return sk, fmt.Sprintf("a TCP socket without an address (%v)", err)
		}
		sk.local = addrOf(local)
		if acc, _ := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); acc != 0 {
			sk.listening = true
			return sk, ""
		}
		remote, err := syscall.Getpeername(fd)
		if err != nil {
			// Not connected: a connection its peer reset, not yet closed
			// by the process, or one still connecting; nothing passes.
			return sockInfo{}, ""
		}
		sk.remote = addrOf(remote)
		return sk, ""
	}
	return sk, fmt.Sprintf("a socket of address family %d", domain)
}

// addrOf turns a socket address into an AddrPort; an IPv4-mapped IPv6
// address comes back as IPv4.
func addrOf(sa syscall.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}
