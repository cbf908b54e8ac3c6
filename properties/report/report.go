package report

import (
	"fmt"
	"time"
)

// Version is the version of the report.json schema this package writes
// (docs/report.schema.json). It changes when a field is removed, renamed
// or changes meaning; new optional fields may appear within a version.
const Version = 1

// Unlifted is the To of a [Span] that was never lifted before the check
// ended: a client stalled to the end, say. The timeline draws it to the
// right edge.
const Unlifted time.Duration = -1

// Mark kinds.
const (
	MarkRequest = "request" // the client sent a request
	MarkReply   = "reply"   // the client received the reply to a request
	MarkPush    = "push"    // the client received a message it did not ask for
	MarkError   = "error"   // the client received an error, or its connection failed
)

// Report is everything known about one failing property check, in terms
// of the protocol under test: its requests, its clients and their roles.
// Every time in it is measured from the start of the reported check (the
// shrunk scenario), except FirstViolation; see the package documentation
// for each field.
type Report struct {
	Version        int           // Version when written by this package; 0 is taken as Version
	Property       string        // the property that failed: "progress", ...
	Violation      string        // what broke, in one or a few lines
	Protocol       string        // the protocol the clients spoke: "stallproof v1", "chat", ...
	Transport      string        // "InMemory" or "LoopbackTCP"
	Seed           uint64        // rapid's seed of the failing check; 0 if unknown
	Replay         string        // the command that replays the failure
	Bound          time.Duration // how long a healthy client waited before the server counted as stuck
	FirstViolation time.Duration // from the start of the property's run to the first violation seen
	ViolationAt    time.Duration // from the start of the reported check to its violation
	Steps          []Step        // the scenario's steps, in order
	Clients        []Client      // every client the scenario connected, in order of connection
	Goroutines     string        // the server's goroutines at the violation, grouped by where they wait
	Stacks         []Stack       // the same goroutines as data, most first
}

// Stack is a group of the server's goroutines stuck at the same place.
type Stack struct {
	Count  int     // goroutines in the group
	State  string  // what they wait for: "sync.Mutex.Lock", "IO wait", ...
	Frames []Frame // where, innermost first; a Frame of Func "..." stands for frames left out
}

// Frame is one function call of a stack.
type Frame struct {
	Func string // "bufio.(*Writer).Flush", "example.com/broker.(*Broker).Publish"
	File string // the file's base name: "broker.go"; "" if unknown
	Line int    // 0 if unknown
}

// String formats f as "bufio.(*Writer).Flush (bufio.go:639)".
func (f Frame) String() string {
	if f.File == "" {
		return f.Func
	}
	return fmt.Sprintf("%s (%s:%d)", f.Func, f.File, f.Line)
}

// Step is one action of the scenario.
type Step struct {
	At   time.Duration // when the harness took it
	Text string        // what it did: "stall c3", "vote c1 yes", ...
}

// Client is one client of the scenario and what happened to it.
type Client struct {
	ID     int      // the client's number; its lane is labelled "c<ID>"
	Kind   string   // how it behaves: "healthy", "stalled", "flooder", ...
	Role   string   // its role in the protocol under test ("voter", "subscriber"); may be empty
	Wrote  int64    // bytes it wrote
	Read   int64    // bytes it read
	Last   []string // its last messages, oldest first
	Events []Event  // faults on its connection, from faultnet's event log
	Marks  []Mark   // requests, replies, pushes and errors, as they happened
	Spans  []Span   // faults in force over a time: a stall from t1 to t2
}

// Event is one entry of a connection's fault log (faultnet.Event): a fault
// injected, fired or removed, a buffer that filled, a reset, a half-close.
type Event struct {
	At   time.Duration // when it happened
	Kind string        // faultnet's EventKind: "inject", "fire", "remove", "buffer-full", "reset", ...
	Text string        // the fault or other detail: "StallReads()", "at byte 8192"
}

// Mark is one message of a client, drawn as a mark in its lane.
type Mark struct {
	At   time.Duration // when it was sent or received
	Kind string        // MarkRequest, MarkReply, MarkPush or MarkError
	Text string        // the message, or a short name for it: "VOTE yes", "OK 12"
	// Count is how many messages the mark stands for; 0 means one. For a
	// request: how many were sent at once (a burst, a pipeline); for a
	// reply: how many arrived up to At (a client that kept only counts).
	// A client's replies and errors answer its requests in order.
	Count int
}

// Span is a fault in force over a time, drawn as a shaded band in its
// client's lane.
type Span struct {
	From time.Duration // when it took effect
	To   time.Duration // when it was lifted, or Unlifted
	Kind string        // what it is: "stall", "trickle", "flood", ...
	Text string        // the fault as code: "StallReads()"
}
