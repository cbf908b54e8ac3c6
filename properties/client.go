package properties

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/sockdiag"
)

// client is one client of the harness: what every client has, whatever
// carries its requests. Its transport does: the suite's own reader and
// writer on the wire (wireClient, client_wire.go), or the protocol's client
// library (libClient, client_lib.go).
type client struct {
	id   int
	kind kind
	role *Role
	env  *env
	conn *faultnet.Conn // its first connection (on the wire, its only one)
	t    transport      // nil until connected

	greeted chan struct{} // closed once the greeting is read (or the reader ended first)
	done    chan struct{} // closed when the reader ends (library: when closed)
	once    sync.Once     // closes done, where no reader of the harness does

	mu         sync.Mutex
	conns      []*faultnet.Conn    // every connection the client made
	last       []string            // the last messages received, for reports
	marks      []mark              // what happened, for the timeline
	over       map[string]overflow // past maxMarks: the mark of each kind that counts the others
	pushes     int
	pushBytes  int64 // bytes of the pushed messages
	lastPush   int64 // the env's tick of the last push
	version    int64 // of the last push that had one (Protocol.Version)
	versioned  bool
	notices    int // ErrorReply messages with no request outstanding: "you were dropped"
	readErr    error
	cond       *sync.Cond // signalled on every push and when the reader ends
	greetedAt  time.Time
	greetedSeq int64         // the env's tick when it was greeted
	greetErr   string        // what came instead of the greeting, if anything
	dialedAt   time.Duration // since the check began: faultnet's event times count from here

	// driver state, used by the driver goroutine only
	stall   []*faultnet.Injection // StallReads on each connection, while stalled
	tainted atomic.Bool           // was stalled: no longer owed answers (String reads it from readers)
	closed  bool                  // closed, reset or half-closed by the driver
	quiet   atomic.Bool           // record nothing (memory measurements)

	serverBlockedAt atomic.Int64 // since the check began: when the kernel showed the server's writes to it blocked; 0 not yet
	nreq            int          // requests made so far

	blocked sockdiag.StuckWriter // under mu: the kernel's looks at the server's end (target_kernel.go)

	v1 v1Client // what protocol v1 knows of this client
}

// A transport carries a client's requests to the server and their answers
// back, within the bound. The actions that only the wire allows
// (pipelining, flooding, half-written lines) ask for the wireClient itself
// (client.wire).
type transport interface {
	// request makes the client's next request (variant i, for protocol
	// v1) and waits for its answer; it reports false after a violation.
	request(i int) bool
	// parallel makes n requests at once and waits for every answer.
	parallel(n int)
	// close closes the client.
	close()
}

// wire returns the client's transport on the wire, or nil for a client
// that a client library drives.
func (c *client) wire() *wireClient {
	w, _ := c.t.(*wireClient)
	return w
}

// onWire reports whether the suite itself reads and writes the client's
// connection.
func (c *client) onWire() bool { return c.wire() != nil }

// reply is one Reply or ErrorReply message.
type reply struct {
	class Class
	msg   string
}

// mark is one event of a client, for the report's timeline.
type mark struct {
	at    time.Duration
	kind  string // "request", "reply", "push", "error"
	text  string
	count int // requests sent in one write; 0 means 1
}

const (
	keepLines = 6    // last messages kept for reports
	maxMarks  = 2000 // marks kept per client
)

func newClient(e *env, id int, k kind, role *Role) *client {
	c := &client{
		id: id, kind: k, role: role, env: e,
		greeted: make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.cond = sync.NewCond(&c.mu)
	c.dialedAt = time.Since(e.start)
	return c
}

// String names the client as reports do: its id, kind and role, and
// whether the scenario stalled it.
func (c *client) String() string {
	k := c.kind.String()
	if c.tainted.Load() && c.kind.answers() {
		k += ", stalled by the scenario"
	}
	if len(c.env.proto.Roles) > 1 {
		return fmt.Sprintf("c%d (%s %s)", c.id, k, c.role.Name)
	}
	return fmt.Sprintf("c%d (%s)", c.id, k)
}

// adopt records a connection of this client; on the wire, its first.
func (c *client) adopt(conn *faultnet.Conn) {
	c.mu.Lock()
	c.conns = append(c.conns, conn)
	if c.conn == nil {
		c.conn = conn
	}
	c.mu.Unlock()
}

// connections returns every connection the client made.
func (c *client) connections() []*faultnet.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*faultnet.Conn(nil), c.conns...)
}

// ended wakes every waiter when the reader ends; a client never greeted
// stops waiting for the greeting too.
func (c *client) ended() {
	c.mu.Lock()
	select {
	case <-c.greeted:
	default:
		close(c.greeted)
	}
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *client) markGreeted() {
	c.mu.Lock()
	c.greetedAt, c.greetedSeq = time.Now(), c.env.tick()
	close(c.greeted)
	c.mu.Unlock()
}

// isGreeted reports whether the greeting was read in full.
func (c *client) isGreeted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.greetedAt.IsZero() && c.greetErr == ""
}

func (c *client) notePush(msg []byte) {
	v, versioned := c.env.proto.version(c.role.Name, msg)
	c.mu.Lock()
	c.pushes++
	c.pushBytes += int64(len(msg))
	c.lastPush = c.env.tick()
	if versioned {
		c.version, c.versioned = v, true
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	if versioned {
		c.env.noteVersion(v)
	}
}

// pushTotals returns the pushes the client received, and their bytes.
func (c *client) pushTotals() (pushes, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int64(c.pushes), c.pushBytes
}

// lastVersion returns the version of the last push the client received
// that had one.
func (c *client) lastVersion() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version, c.versioned
}

func (c *client) noteNotice() {
	c.mu.Lock()
	c.notices++
	c.cond.Broadcast()
	c.mu.Unlock()
}

// remember keeps the last few messages for the report.
func (c *client) remember(msg []byte) {
	if c.quiet.Load() {
		return
	}
	c.mu.Lock()
	if len(c.last) == keepLines {
		copy(c.last, c.last[1:])
		c.last = c.last[:keepLines-1]
	}
	c.last = append(c.last, strings.TrimRight(string(msg), "\r\n"))
	c.mu.Unlock()
}

// mark records an event for the timeline.
func (c *client) mark(kind string, msg []byte) { c.markN(kind, msg, 0) }

// overflow is a mark that counts the messages of one kind within
// overflowWindow of the first, once a client has maxMarks.
type overflow struct {
	idx   int           // in marks
	start time.Duration // its first message
}

const overflowWindow = 2 * time.Millisecond

// markN records an event for the timeline: for a request, n requests sent
// in one write (0 or 1: one). Past maxMarks, the messages of each kind
// within 2 ms are counted in one mark, so that the timeline still shows
// them (and requests still pair with their answers); past 4×maxMarks,
// nothing is kept. A quiet client, whose memory must stay flat, keeps only
// its bursts of requests and a count of the replies that followed each.
func (c *client) markN(kind string, msg []byte, n int) {
	at := time.Since(c.env.start)
	if n <= 1 {
		n = 0
	}
	if c.quiet.Load() {
		c.markQuiet(at, kind, msg, n)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.marks) >= maxMarks {
		c.markOver(at, kind, msg, n)
		return
	}
	c.marks = append(c.marks, mark{at, kind, markText(msg), n})
}

func markText(msg []byte) string {
	text := string(msg)
	if len(text) > 60 {
		text = text[:57] + "..."
	}
	return strings.TrimRight(text, "\r\n")
}

// markOver is markN past maxMarks: the message is counted in the mark of
// its kind that began within overflowWindow, or begins a new one. A
// counted request stays at the time of its first; a counted reply, push
// or error moves to its last.
func (c *client) markOver(at time.Duration, kind string, msg []byte, n int) {
	if o, ok := c.over[kind]; ok && at-o.start < overflowWindow {
		m := &c.marks[o.idx]
		m.count = max(m.count, 1) + max(n, 1)
		if kind != "request" {
			m.at = at
		}
		return
	}
	if len(c.marks) >= 4*maxMarks {
		return
	}
	if c.over == nil {
		c.over = map[string]overflow{}
	}
	c.over[kind] = overflow{len(c.marks), at}
	c.marks = append(c.marks, mark{at, kind, markText(msg), n})
}

// markQuiet is markN for a quiet client: a burst of requests is kept, and
// the replies after it are counted in one mark, moved to the last one's
// time; other messages are not recorded, and anything else (an event such
// as a blocked server) is.
func (c *client) markQuiet(at time.Duration, kind string, msg []byte, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch last := len(c.marks) - 1; {
	case len(c.marks) >= maxMarks:
	case kind == "request" && n > 1:
		c.marks = append(c.marks, mark{at, kind, string(bytes.TrimRight(msg, "\r\n")), n})
	case kind == "reply" && last >= 0 && c.marks[last].kind == "reply":
		c.marks[last].at = at
		c.marks[last].count = max(c.marks[last].count, 1) + 1
	case kind == "reply":
		c.marks = append(c.marks, mark{at, kind, "replies (counted)", 0})
	case kind == "request" || kind == "push" || kind == "error":
	default: // not a message: a rare event of the connection, kept
		c.marks = append(c.marks, mark{at, kind, string(msg), 0})
	}
}

func (c *client) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// waitFor waits, within the bound, until cond holds; cond runs with c.mu
// held. It gives up early when the reader has ended.
func (c *client) waitFor(cond func() bool) bool {
	b := c.env.newBound()
	defer b.stop()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // wake the waiter when the bound may have passed
		for {
			select {
			case <-stop:
				return
			case <-b.C():
				b.expired() // re-arms unless the bound has passed
				c.mu.Lock()
				c.cond.Broadcast()
				c.mu.Unlock()
			}
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !cond() {
		if c.readErr != nil || b.left() <= 0 {
			return cond()
		}
		c.cond.Wait()
	}
	return true
}

// lastLines returns the last messages received, for a failure report.
func (c *client) lastLines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.last...)
}

func (c *client) pushCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pushes
}

// close closes the client: its library, or its connections.
func (c *client) close() {
	if c.t != nil {
		c.t.close()
		return
	}
	for _, conn := range c.connections() {
		_ = conn.Close()
	}
	c.finish()
}

// finish marks a client done that has no reader of the harness: a library
// client, or one whose dial failed.
func (c *client) finish() {
	c.once.Do(func() {
		c.mu.Lock()
		if c.readErr == nil {
			c.readErr = net.ErrClosed
		}
		c.mu.Unlock()
		close(c.done)
		c.ended()
	})
}

// inject puts a fault on every connection of the client.
func (c *client) inject(f faultnet.Fault) []*faultnet.Injection {
	var ins []*faultnet.Injection
	for _, conn := range c.connections() {
		ins = append(ins, conn.Inject(f))
	}
	return ins
}

// stallReads makes the client stop reading, on every connection.
func (c *client) stallReads() {
	if c.stall == nil {
		c.stall = c.inject(faultnet.StallReads())
	}
}

// resume makes a stalled client read again.
func (c *client) resume() {
	for _, in := range c.stall {
		in.Remove()
	}
	c.stall = nil
}
