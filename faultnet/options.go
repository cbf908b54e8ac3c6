package faultnet

import "fmt"

// DefaultBufferSize is the capacity of each direction of an in-memory
// connection: the bytes one end can write before it blocks while the other
// end reads nothing. Like TCP, it is the writer's send buffer plus the
// reader's receive buffer, half each by default. 64 KiB is a common TCP
// window, a default for tests of anything; the property suite
// (properties.BufferSize) uses 8 KiB instead, so that a client that stops
// reading blocks the server after a few kilobytes and each check is short.
const DefaultBufferSize = 64 << 10

// DefaultBacklog is the length of an in-memory listener's accept queue.
const DefaultBacklog = 128

// An Option configures a Pipe, a Listener, or a wrapped connection. Options
// that make no sense for the thing they are given to are ignored, so one
// option list can serve a listener and the connections it creates.
type Option interface {
	apply(*config)
	fmt.Stringer
}

type config struct {
	bufSize     int
	backlog     int
	refuseFull  bool
	seed        uint64
	name        string
	sockBufSize int
	faults      []Fault
	onAccept    func(*Conn)
	onEvent     func(Event)
	maxEvents   int
}

func newConfig(opts []Option) config {
	c := config{bufSize: DefaultBufferSize, backlog: DefaultBacklog, maxEvents: 1024}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

type optionFunc struct {
	f    func(*config)
	desc string
}

func (o optionFunc) apply(c *config) { o.f(c) }
func (o optionFunc) String() string  { return o.desc }

func option(desc string, f func(*config)) Option { return optionFunc{f, desc} }

// BufferSize sets the capacity, in bytes, of each direction of in-memory
// connections (default DefaultBufferSize). A writer blocks once this many
// bytes wait unread: a zero window at an exact byte count. Values below 1
// are raised to 1. Change one direction of a live connection with
// Conn.SetWriteBuffer and Conn.SetReadBuffer.
func BufferSize(n int) Option {
	return option(fmt.Sprintf("BufferSize(%d)", n), func(c *config) { c.bufSize = max(n, 1) })
}

// Backlog sets the length of an in-memory listener's accept queue (default
// DefaultBacklog): the connections dialed and not yet accepted. A dial to a
// full queue blocks until Accept makes room, or fails with ECONNREFUSED
// under RefuseWhenFull.
func Backlog(n int) Option {
	return option(fmt.Sprintf("Backlog(%d)", n), func(c *config) { c.backlog = max(n, 1) })
}

// RefuseWhenFull makes a dial to a listener whose accept queue is full fail
// at once with ECONNREFUSED, instead of blocking (the default, which is what
// Linux does while it drops SYNs and the client retries).
func RefuseWhenFull() Option {
	return option("RefuseWhenFull()", func(c *config) { c.refuseFull = true })
}

// Seed sets the seed of every random draw (jitter, random fragment sizes).
// Each connection and each direction draws from its own source derived from
// the seed and the connection's number, so a schedule replays exactly. The
// default seed is 0: runs are reproducible unless a test asks otherwise.
func Seed(seed uint64) Option {
	return option(fmt.Sprintf("Seed(%d)", seed), func(c *config) { c.seed = seed })
}

// Name names a connection, or the connections of a listener or pipe, in
// events and errors ("client-3"). Listener connections get a number and a
// side added: "name#3/client", "name#3/server".
func Name(name string) Option {
	return option(fmt.Sprintf("Name(%q)", name), func(c *config) { c.name = name })
}

// WithFaults injects faults into a connection as it is created: given to
// Wrap, into the wrapped connection; to Pipe, into the client end; to a
// Listener, into the server end of every accepted connection.
func WithFaults(faults ...Fault) Option {
	return option(fmt.Sprintf("WithFaults%v", faults), func(c *config) {
		c.faults = append(c.faults[:len(c.faults):len(c.faults)], faults...)
	})
}

// OnAccept calls f with the server end of every connection a Listener
// accepts, before Accept returns it: the place to keep a handle on it, or to
// inject faults.
func OnAccept(f func(*Conn)) Option {
	return option("OnAccept(func)", func(c *config) { c.onAccept = f })
}

// OnEvent calls f with every event as it is logged (see Conn.Events). f runs
// on the goroutine that caused the event and must not block or call back
// into the connection.
func OnEvent(f func(Event)) Option {
	return option("OnEvent(func)", func(c *config) { c.onEvent = f })
}

// SocketBufferSize sets the socket buffers of wrapped TCP connections to n
// bytes each (SO_SNDBUF, SO_RCVBUF), so a peer that stops
// reading stalls the writer after tens of kilobytes rather than the
// megabytes a loopback socket absorbs by default. It applies to Wrap,
// WrapListener, ListenTCP and a wrapped Listener's Dial (not to in-memory
// connections, whose buffers BufferSize sets). Set after the handshake, it
// cannot shrink the window scale; see SocketBufferControl.
func SocketBufferSize(n int) Option {
	return option(fmt.Sprintf("SocketBufferSize(%d)", n), func(c *config) { c.sockBufSize = n })
}
