//go:build !linux

package sockdiag

import "net/netip"

// Conn is a netlink socket that asks the kernel about TCP sockets; on this
// system there is none, and Open returns ErrUnsupported.
type Conn struct{}

// Open returns ErrUnsupported: socket diagnostics are Linux's.
func Open() (*Conn, error) { return nil, ErrUnsupported }

// Close does nothing.
func (c *Conn) Close() error { return nil }

// Lookup returns ErrUnsupported.
func (c *Conn) Lookup(local, remote netip.AddrPort) (Socket, error) {
	return Socket{}, ErrUnsupported
}

// ShrinkSendBuffer returns ErrUnsupported.
func ShrinkSendBuffer(s Socket, bytes int, pidHint int) (pid int, err error) {
	return 0, ErrUnsupported
}

// Onward returns ErrUnsupported.
func Onward(s Socket, pidHint int, ours func(local netip.AddrPort) bool) (pid int, onward string, err error) {
	return 0, "", ErrUnsupported
}
