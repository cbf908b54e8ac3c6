package properties

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
)

// A Protocol tells Run how clients talk to the server under test. The
// engine knows clients, roles, requests, replies, pushes, faults and time;
// everything it needs to know of a protocol is here. Protocol v1, the
// voting protocol of the reference server, is one description among others
// ([ProtocolV1], the default).
//
// There are two ways to describe clients. On the wire: Roles with Hello and
// Request bytes, and Split, Greeted and Classify to read the server's
// messages (a line protocol needs only Roles and Classify). Or with your own
// Go client library: Connect, which makes one client over the suite's
// connection; the library then frames and parses, and the faults still
// reach the server, since every byte goes through a faultnet connection.
//
// A Protocol is a value: Run never modifies it, and its functions must be
// safe to call from several goroutines.
type Protocol struct {
	// Name names the protocol in reports ("RESP", "MQTT 3.1.1").
	Name string

	// Roles are the parts a client can play; scenarios draw them. At
	// least one. A role that publishes and one that subscribes make the
	// delivery property meaningful.
	Roles []Role

	// Split frames the bytes the server sends into messages, as for a
	// bufio.Scanner. Nil means lines ending in "\n" (the "\n", and a "\r"
	// before it, are kept off the message).
	Split bufio.SplitFunc

	// MaxMessage bounds one server message in bytes (default 64 KiB); a
	// longer one is a violation.
	MaxMessage int

	// Greeted reports whether the server's greeting to a client of role
	// is complete with msg, the n-th message (from 0) the client received
	// after it connected and wrote its Hello. Every message until then,
	// that one included, is the greeting; a client does nothing else, and
	// no fault of its kind applies, before it is greeted. Nil: the server
	// sends no greeting, and a client is ready once its Hello is written;
	// so is a client of a Role marked NoGreeting.
	Greeted func(role string, n int, msg []byte) bool

	// Classify says what a server message after the greeting is. Nil:
	// every message is a Reply.
	Classify func(role string, msg []byte) Class

	// Delivery says what pushes promise (default EveryPublish).
	Delivery Delivery

	// Version, for a push, returns the version of the state it carries (a
	// sequence number, a tick, a timestamp: larger is newer), and whether
	// it has one. With it, the delivery property checks freshness, not
	// only arrival: once publishing stops, every healthy subscriber's last
	// push carries the newest version any client was pushed, and a stalled
	// subscriber that resumes catches up to it, and then, after one more
	// publish, is pushed a version newer than any before (a publish makes
	// a newer state). That is what Latest promises: a conflating server
	// that keeps the oldest pending state instead of the newest passes an
	// arrival check and fails this one.
	// Nil: only arrival is checked, and the verdict says so.
	Version func(role string, msg []byte) (version int64, ok bool)

	// Connect makes one client with your own client library, instead of
	// Hello, Request, Split, Greeted and Classify. It must use dial for
	// every connection it makes (plug it into the library's dialer hook:
	// net.Dialer-style DialContext, http.Transport.DialContext, a
	// WebSocket dialer's NetDialContext, grpc.WithContextDialer), call
	// onPush for every message pushed to the client, and return once the
	// client is ready: connected, and subscribed if its role subscribes.
	Connect func(ctx context.Context, dial DialFunc, c ClientInfo, onPush func(msg []byte)) (Client, error)

	// ConcurrentRequests says that a Connect client's Request may be
	// called from several goroutines at once, as most client libraries
	// allow (net/http, gRPC, NATS, Redis clients). The suite then makes
	// a burst of requests (bounded's thousands, progress's bursts) from
	// up to MaxConcurrentRequests goroutines per client instead of one
	// after another. False: one at a time.
	ConcurrentRequests bool

	// v1 hooks the harness's knowledge of protocol v1 (votes, tallies)
	// into the engine; nil for every other protocol.
	v1 bool
}

// A Role is a part a client plays: publisher, subscriber, both, or a plain
// client of a request/reply server.
type Role struct {
	// Name names the role in reports and in Greeted and Classify calls.
	Name string

	// Hello returns what a client of this role writes as soon as it
	// connects (CONNECT, AUTH, SUBSCRIBE, an HTTP upgrade). Every client
	// of the role writes it, including those that stall afterwards, so a
	// stalled subscriber is subscribed. Nil: nothing.
	Hello func(id int) []byte

	// Request returns the n-th request (from 0) of client id: whole
	// messages, terminator included. Each must get exactly one Reply or
	// ErrorReply, in order. Nil: clients of this role make no requests (they
	// only listen). With Connect, Request is not used: the Client makes
	// its own requests, for every role that publishes or does not
	// subscribe (a role that only subscribes makes none).
	Request func(id, n int) []byte

	// Publishes: each request of this role makes the server push
	// something to the subscribers (a PUBLISH, a chat message, a vote).
	Publishes bool

	// Subscribes: clients of this role receive pushes.
	Subscribes bool

	// NoGreeting: the server sends clients of this role no greeting, even
	// though the Protocol's Greeted is set for the others (a publisher
	// that needs no confirmation beside a subscriber that waits for its
	// SUBSCRIBE's): they do not wait for one.
	NoGreeting bool
}

// version returns a push's version, when the protocol says.
func (p *Protocol) version(role string, msg []byte) (int64, bool) {
	if p.Version == nil {
		return 0, false
	}
	return p.Version(role, msg)
}

// GoString names the role, so that rapid's log of what a scenario drew
// reads "draw role: publisher", not a struct of function pointers.
func (r Role) GoString() string { return r.Name }

// greets reports whether clients of role r wait for a greeting.
func (p *Protocol) greets(r *Role) bool { return p.Greeted != nil && !r.NoGreeting && p.Connect == nil }

// Class is what a message from the server is.
type Class int

// Message classes.
const (
	// Reply answers the client's oldest unanswered request.
	Reply Class = iota + 1
	// Push is something the server sent of its own accord: a published
	// message, a new tally.
	Push
	// ErrorReply is an error message from the server (not a Go error): it
	// answers the oldest unanswered request as an error (RESP's -ERR,
	// NATS's -ERR); with no request outstanding, it tells the client it
	// was dropped (a slow consumer notice, say).
	ErrorReply
	// Ignore is neither: a heartbeat, a ping, a notice the suite need not
	// count.
	Ignore
)

func (c Class) String() string {
	switch c {
	case Reply:
		return "reply"
	case Push:
		return "push"
	case ErrorReply:
		return "error"
	case Ignore:
		return "ignored"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Delivery is what a server promises its subscribers.
//
// Either way, the suite assumes one topic: every publish, by any client of
// a role that Publishes, is owed to every client of a role that
// Subscribes (other than the publisher). A server with topics or channels
// is described with one: every subscriber's Hello subscribes to the
// channel every publisher's Request publishes to (the built-in protocols
// take the channel as an option).
type Delivery int

const (
	// EveryPublish: each answered publish reaches every healthy
	// subscriber as at least one push (a chat, a message broker).
	EveryPublish Delivery = iota
	// Latest: the server may conflate, sending a subscriber only the
	// newest state (a tally, a price, a ticker); a healthy subscriber
	// still receives a push after each publish, soon. With
	// Protocol.Version the pushes must also be fresh: at the end, each
	// subscriber holds the newest state; without it, only arrival is
	// checked, and the delivery verdict says so.
	Latest
)

func (d Delivery) String() string {
	if d == Latest {
		return "Latest"
	}
	return "EveryPublish"
}

// DialFunc is the dialer Run hands a Protocol's Connect: the address is
// ignored, and every call returns a new faultnet connection to the server
// under test.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ClientInfo tells Connect which client it makes.
type ClientInfo struct {
	ID   int    // the client's number in reports ("c3")
	Role string // the Role's Name
}

// A Client is one client made by a Protocol's Connect with your own client
// library.
//
// A Client may also have a method
//
//	Done() <-chan struct{}
//
// whose channel is closed once the server has ended the client's
// connection or subscription (a slow-consumer eviction, a close frame, a
// stream ended with an error). The delivery property then counts a
// stalled subscriber that was dropped as told, rather than silently stuck.
type Client interface {
	// Request makes the n-th request (from 0) of this client and returns
	// once it is answered, or with ctx's error once ctx ends. An answer
	// that is an error (the server refused the request) is returned as a
	// non-nil error that is not ctx's.
	Request(ctx context.Context, n int) error
	// Close closes the client and its connections.
	Close() error
}

// WithProtocol runs the suite over protocol p instead of protocol v1. The
// generic properties (progress, delivery, isolation, bounded, leaks) run;
// consistency and halfclose, which know the votes of protocol v1, are
// skipped with a message.
func WithProtocol(p Protocol) Option {
	name := p.Name
	if name == "" {
		name = "..."
	}
	return option(fmt.Sprintf("WithProtocol(%s)", name), func(c *config) { c.proto = p })
}

// validate reports what is wrong with a description, before any check runs.
func (p Protocol) validate() error {
	if len(p.Roles) == 0 {
		return fmt.Errorf("properties: Protocol %q has no Roles", p.Name)
	}
	seen := map[string]bool{}
	requests := false
	for _, r := range p.Roles {
		if r.Name == "" {
			return fmt.Errorf("properties: Protocol %q has a Role with no Name", p.Name)
		}
		if seen[r.Name] {
			return fmt.Errorf("properties: Protocol %q has two Roles named %q", p.Name, r.Name)
		}
		seen[r.Name] = true
		requests = requests || p.v1 || r.Request != nil || (p.Connect != nil && (r.Publishes || !r.Subscribes))
	}
	if !requests {
		return fmt.Errorf("properties: no Role of Protocol %q makes requests: nothing would be checked", p.Name)
	}
	return nil
}

// pubsub reports whether some role receives pushes and some role
// publishes: only then can delivery be checked.
func (p Protocol) pubsub() bool {
	pub, sub := false, false
	for _, r := range p.Roles {
		pub = pub || r.Publishes
		sub = sub || r.Subscribes
	}
	return pub && sub
}

func (p Protocol) split() bufio.SplitFunc {
	if p.Split != nil {
		return p.Split
	}
	return splitLines
}

func (p Protocol) maxMessage() int {
	if p.MaxMessage > 0 {
		return p.MaxMessage
	}
	return 64 << 10
}

func (p Protocol) classify(role string, msg []byte) Class {
	if p.Classify == nil {
		return Reply
	}
	return p.Classify(role, msg)
}

// splitLines is bufio.ScanLines without its acceptance of a last line with
// no "\n": a server's message cut short by EOF is not a message.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, bytes.TrimSuffix(data[:i], []byte("\r")), nil
	}
	if atEOF && len(data) > 0 {
		return 0, nil, fmt.Errorf("server message %q cut short by EOF", data)
	}
	return 0, nil, nil
}
