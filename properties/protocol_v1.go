package properties

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/stallproof/stallproof/properties/internal/ledger"
	"github.com/stallproof/stallproof/wire"
)

// ProtocolV1 describes protocol v1, the voting protocol of the reference
// server (package [wire] has its exact rules): one role, "voter", that
// both votes (publishes) and is pushed tallies (subscribes); the greeting
// is HELLO; OK and BYE are replies, ERR an error, TALLY a push. Tallies
// conflate (Latest). It is Run's default.
//
// With it, the harness also knows every vote: the consistency property
// checks each tally against the acknowledged votes, and halfclose the
// votes sent before a half-close.
func ProtocolV1() Protocol {
	return Protocol{
		Name:       "stallproof v1",
		Roles:      []Role{{Name: "voter", Publishes: true, Subscribes: true}},
		MaxMessage: wire.MaxServerLine,
		// The first line: HELLO, or ERR busy in its place.
		Greeted:  func(string, int, []byte) bool { return true },
		Classify: classifyV1,
		Delivery: Latest,
		Version:  versionV1,
		v1:       true,
	}
}

// versionV1 is a tally's seq: a newer tally has a larger one.
func versionV1(_ string, msg []byte) (int64, bool) {
	if wire.KindOf(msg) != wire.MsgTally {
		return 0, false
	}
	_, rest, _ := strings.Cut(string(msg), " ")
	seq, _, _ := strings.Cut(rest, " ")
	v, err := strconv.ParseInt(seq, 10, 64)
	return v, err == nil
}

func classifyV1(_ string, msg []byte) Class {
	switch wire.KindOf(msg) {
	case wire.MsgOK, wire.MsgBye:
		return Reply
	case wire.MsgErr:
		return ErrorReply
	case wire.MsgTally:
		return Push
	}
	return Ignore // checked by v1State.observe
}

// v1State is what the harness knows of the votes in one check.
type v1State struct {
	e *env
	// fresh: the server started with this check, so every vote it counts
	// is one of the check's, and tallies can be checked exactly. A server
	// that RunDial or RunAddr reaches keeps its tally from check to check:
	// then seqs must still be unique, tallies never go back and every
	// healthy client ends on the final tally, but counts are not compared
	// with the check's own votes.
	fresh bool

	mu     sync.Mutex
	opts   []string       // the options of the first HELLO
	sent   map[string]int // complete VOTE lines written, per option
	ledger *ledger.Ledger // acknowledged votes; set with the options
}

// v1Client is what protocol v1 knows of one client. Its conversation is
// checked by a wire.Session, the same rules as every protocol v1 client
// of this repository checks: the reader goroutine feeds it what the server
// sends, the driver what the client writes (client.noteWritten).
type v1Client struct {
	sess wire.Session // the reader's; Sent from the driver

	// guarded by client.mu
	opts      []string
	lastTally wire.Msg
	tallies   int
	seen      []wire.Msg // tallies received, rechecked at the audit

	lastAck uint64 // seq of this client's last OK; driver goroutine only
}

// maxSeen bounds the tallies a client keeps for the final recheck.
const maxSeen = 4096

func newV1State(e *env) *v1State {
	return &v1State{e: e, sent: map[string]int{}, fresh: e.cfg.target.listens()}
}

// onGreeting reads HELLO, or notes what came instead (ERR busy).
func (v *v1State) onGreeting(c *client, msg []byte) {
	m, err := c.v1.sess.Received(string(msg))
	if err != nil || m.Kind != wire.MsgHello {
		c.mu.Lock()
		c.greetErr = string(msg)
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	c.v1.opts = m.Options
	c.mu.Unlock()
	v.mu.Lock()
	first := v.opts
	if first == nil {
		v.opts = m.Options
		v.ledger = ledger.New(len(m.Options))
	}
	v.mu.Unlock()
	if first != nil && !slices.Equal(first, m.Options) {
		v.e.violate(propConsistency, "%v got HELLO %v, others %v", c, m.Options, first)
	}
}

// observe checks a line after the greeting against protocol v1's rules
// for one client (wire.Session: every line parses, the current TALLY
// follows HELLO, tallies never go back and repeat only as answers, OKs
// increase, nothing follows BYE), and each TALLY against the votes.
func (v *v1State) observe(c *client, _ Class, msg []byte) {
	m, err := c.v1.sess.Received(string(msg))
	if err != nil {
		v.e.violate(propConsistency, "%v: %v", c, strings.TrimPrefix(err.Error(), wire.ErrViolation.Error()+": "))
		return
	}
	if m.Kind == wire.MsgTally {
		v.onTally(c, m)
	}
}

// onTally records a TALLY that the client's session accepted, and checks
// it against the votes the harness knows.
func (v *v1State) onTally(c *client, m wire.Msg) {
	c.mu.Lock()
	c.v1.lastTally = m
	c.v1.tallies++
	if !c.quiet.Load() && len(c.v1.seen) < maxSeen {
		c.v1.seen = append(c.v1.seen, m)
	}
	c.mu.Unlock()
	v.checkTally(c, m)
}

func (v *v1State) options() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.opts
}

// option returns the i-th option, modulo their number.
func (v *v1State) option(i int) string {
	opts := v.options()
	if len(opts) == 0 {
		return "none"
	}
	return opts[i%len(opts)]
}

// request is the vote a client makes for variant i.
func (v *v1State) request(i int) []byte { return wire.AppendVote(nil, v.option(i)) }

// votedFor returns the option a VOTE request votes for.
func votedFor(req []byte) string {
	r, _ := wire.ParseRequest(req)
	return string(r.Option)
}

// noteSent counts complete VOTE lines written.
func (v *v1State) noteSent(req []byte, n int) {
	opt := votedFor(req)
	v.mu.Lock()
	v.sent[opt] += n
	v.mu.Unlock()
}

// answered checks the answer to a vote: an OK (the session checked that
// its seq is above the client's last one), whose seq no other vote has.
func (v *v1State) answered(c *client, req []byte, r reply) {
	opt := votedFor(req)
	m, err := wire.ParseMsg(r.msg, nil)
	if err != nil || m.Kind != wire.MsgOK {
		v.e.violate(propConsistency, "%v: %q answered %q", c, strings.TrimSpace(string(req)), r.msg)
		return
	}
	c.v1.lastAck = m.Seq
	v.noteAck(c, m.Seq, opt)
}

// noteAck records an OK: seqs are unique across all clients.
func (v *v1State) noteAck(c *client, seq uint64, opt string) {
	if c.quiet.Load() {
		return
	}
	v.mu.Lock()
	i := slices.Index(v.opts, opt)
	if i < 0 || v.ledger == nil {
		v.mu.Unlock()
		return
	}
	prev, ok := v.ledger.Add(seq, i)
	v.mu.Unlock()
	if !ok {
		v.e.violate(propConsistency, "seq %d acknowledged twice: for %q and, to %v, for %q", seq, v.opts[prev], c, opt)
	}
}

// checkTally checks a tally against the votes known so far: TALLY k counts
// at least the acknowledged votes with seq ≤ k, and exactly those when all
// of 1..k are known.
func (v *v1State) checkTally(c *client, m wire.Msg) {
	v.mu.Lock()
	opts, l := v.opts, v.ledger
	if l == nil || len(m.Counts) != len(opts) || !v.fresh {
		v.mu.Unlock()
		return
	}
	known := make([]int, len(opts))
	for i := range opts {
		known[i] = l.UpTo(i, m.Seq)
	}
	all := uint64(l.AllUpTo(m.Seq)) == m.Seq
	v.mu.Unlock()
	for i, opt := range opts {
		got := m.Counts[i]
		if uint64(known[i]) > got {
			v.e.violate(propConsistency, "%v: TALLY %d counts %s=%d, but %d votes for %s with seq ≤ %d were acknowledged",
				c, m.Seq, opt, got, known[i], opt, m.Seq)
			return
		}
		if all && uint64(known[i]) != got {
			v.e.violate(propConsistency, "%v: TALLY %d counts %s=%d, but the acknowledged votes 1..%d hold %d",
				c, m.Seq, opt, got, m.Seq, known[i])
			return
		}
	}
}

// lastTally returns the newest tally c received.
func (c *client) lastTally() wire.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v1.lastTally
}

// tallyCount returns how many tallies c received.
func (c *client) tallyCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v1.tallies
}

// waitTally waits until c has received a tally with seq ≥ seq.
func (c *client) waitTally(seq uint64) (wire.Msg, bool) {
	ok := c.waitFor(func() bool { return c.v1.tallies > 0 && c.v1.lastTally.Seq >= seq })
	return c.lastTally(), ok
}

// catchUp is waitTally, but once late (another client waited out the
// bound for the same tally), it does not wait: c has had at least the
// bound too, since the tally was settled. So a server that pushes no
// final tally costs an audit one bound, not one a client.
func (c *client) catchUp(seq uint64, late bool) (wire.Msg, bool) {
	if !late {
		return c.waitTally(seq)
	}
	c.mu.Lock()
	ok := c.v1.tallies > 0 && c.v1.lastTally.Seq >= seq
	c.mu.Unlock()
	return c.lastTally(), ok
}

// waitTallies waits until c has received n tallies in all.
func (c *client) waitTallies(n int) (wire.Msg, bool) {
	ok := c.waitFor(func() bool { return c.v1.tallies >= n })
	return c.lastTally(), ok
}
