package mutants

import (
	"context"
	"net"
	"slices"

	"github.com/stallproof/stallproof/wire"
)

// DefaultOptions are the options a mutant offers in HELLO when it runs
// through Mutant.Serve. All copies them when it is called.
var DefaultOptions = []string{"red", "green", "blue"}

// The properties a mutant can be caught by, as named in Mutant.Caught.
const (
	Progress    = "progress"    // a healthy client's VOTE is answered within the bound
	Delivery    = "delivery"    // subscribers keep receiving tallies; a resumed one catches up
	Consistency = "consistency" // seqs unique and increasing, tallies exact
	Isolation   = "isolation"   // stalled peers don't slow healthy clients
	Bounded     = "bounded"     // memory doesn't grow with a stalled or flooding client
	HalfClose   = "halfclose"   // votes sent before a half-close are counted and answered
	Leaks       = "leaks"       // no goroutine outlives its client or the server
	Race        = "race"        // the race detector reports a data race
)

// A Mutant is a protocol v1 server that is correct except for one bug.
type Mutant struct {
	Name string // short, kebab-case
	Bug  string // one sentence
	// Caught names the properties that should fail on this mutant, the one
	// that catches it most directly first. A suite that catches the mutant
	// fails at least one of them, and needs no other.
	Caught []string
	// Serve runs the mutant with DefaultOptions (as they were when All was
	// called). It has the shape of properties.ServeFunc: it returns nil once
	// ctx is done and every goroutine it started has ended (the leaking
	// mutant's leaked goroutines end just after, when they see it stop).
	Serve func(ctx context.Context, ln net.Listener) error

	build func(s *server) // installs the mutant's hooks
}

// ServeOptions is Serve with the given options (1 to 64 distinct names of
// [a-z0-9_-]) instead of DefaultOptions.
func (m Mutant) ServeOptions(opts []string) func(ctx context.Context, ln net.Listener) error {
	opts = slices.Clone(opts)
	return func(ctx context.Context, ln net.Listener) error {
		if err := wire.ValidateOptions(opts); err != nil {
			return err
		}
		return m.newServer(opts).serve(ctx, ln)
	}
}

func (m Mutant) newServer(opts []string) *server {
	s := newServer(opts)
	m.build(s)
	return s
}

// All returns every mutant, in a fixed order.
func All() []Mutant {
	all := []Mutant{
		{Name: "lock-across-write", Caught: []string{Progress, Isolation}, build: lockAcrossWrite,
			Bug: "holds the tally lock while it writes the new tally to every client, so one stalled client freezes every vote"},
		{Name: "broadcast-worker", Caught: []string{Progress, Isolation}, build: broadcastWorker,
			Bug: "one broadcast worker writes to every client in turn, fed by a buffered channel sent to under the tally lock, so a stalled client freezes it once the channel fills"},
		{Name: "blocking-queue", Caught: []string{Progress, Isolation}, build: blockingQueue(16),
			Bug: "per-client writers fed by channels of 16 tallies, sent to under the tally lock, so a stalled client freezes every vote once its socket buffer and its 16 queued tallies are full"},
		{Name: "deep-blocking-queue", Caught: []string{Progress, Isolation}, build: blockingQueue(1024),
			Bug: "blocking-queue with channels of 1024 tallies: a stalled client freezes every vote only after its buffer and 1024 more tallies, more than a short scenario pushes"},
		{Name: "unbounded-queue", Caught: []string{Bounded}, build: unboundedQueue,
			Bug: "per-client writers with unbounded queues that keep every tally, so memory grows with the votes sent to a stalled client"},
		{Name: "leaky-writer", Caught: []string{Leaks}, build: leakyWriter,
			Bug: "the per-client writer goroutine is not stopped when its client disconnects"},
		{Name: "racy-snapshot", Caught: []string{Race, Consistency}, build: racySnapshot,
			Bug: "builds the pushed tally from the counts without holding the tally lock (a data race)"},
		{Name: "stale-mailbox", Caught: []string{Consistency}, build: staleMailbox,
			Bug: "hands the tally to the one-slot mailboxes after unlocking, with no version guard, so an older tally overwrites a newer one"},
		{Name: "halfclose-drop", Caught: []string{HalfClose}, build: halfCloseDrop,
			Bug: "stops when the client half-closes, dropping the complete lines it had already read"},
		{Name: "accept-quit", Caught: []string{Progress}, build: acceptQuit,
			Bug: "the accept loop returns on the first temporary accept error, taking the server down"},
		{Name: "torn-snapshot", Caught: []string{Consistency}, build: tornSnapshot,
			Bug: "reads seq and counts as separate atomics without the lock, so a tally's counts need not sum to its seq"},
		{Name: "seq-before-lock", Caught: []string{Consistency}, build: seqBeforeLock,
			Bug: "takes the vote's seq from an atomic counter before counting it under the lock, so TALLY k need not count exactly the votes with seq <= k"},
		{Name: "serial-writes", Caught: []string{Isolation}, build: serialWrites,
			Bug: "every client's writer takes one server-wide lock around its Write, with a write deadline, so each stalled client delays every other client's replies by the deadline"},
		{Name: "forgotten-subscriber", Caught: []string{Delivery}, build: forgottenSubscriber,
			Bug: "a client whose write once blocked for 100 ms is silently dropped: its connection stays open but no tally is pushed to it again"},
		{Name: "unbounded-line", Caught: []string{Bounded}, build: unboundedLine,
			Bug: "reads lines with no length limit, so a client that never sends a newline grows the server's memory without bound"},
	}
	for i := range all {
		all[i].Serve = all[i].ServeOptions(DefaultOptions)
	}
	return all
}

// Lookup returns the mutant with the given name.
func Lookup(name string) (Mutant, bool) {
	for _, m := range All() {
		if m.Name == name {
			return m, true
		}
	}
	return Mutant{}, false
}
