package properties

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.uber.org/goleak"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/properties/internal/stacks"
)

func goleakCurrent() goleak.Option { return goleak.IgnoreCurrent() }

// partings makes clients leave in the ways a client can, whatever the
// protocol: one closes with requests still unanswered, one is reset after
// its requests were answered. Protocol v1 adds a half-close.
func partings(e *env) {
	if e.v1 != nil && (e.target.listens() || e.target.addr != "") {
		partingsV1(e) // with a half-close, which a dial target may not carry
		return
	}
	e.logf("partings: a client closes with 10 requests unanswered; another resets after 3 answered requests")
	if c := e.connect(healthy, e.requester()); c != nil && !e.stuck() && c.onWire() {
		e.pipeline(c, 0, 10)
		c.closed = true
		c.close()
	}
	e.resetAfterRequests(3)
}

// resetAfterRequests connects a client that makes n requests, then is
// reset.
func (e *env) resetAfterRequests(n int) {
	c := e.connect(healthy, e.requester())
	if c == nil || e.stuck() {
		return
	}
	for i := range n {
		if e.request(c, i); e.stuck() {
			return
		}
	}
	c.closed = true
	c.inject(faultnet.Reset())
}

// leaks checks that goroutines return to the baseline once every client has
// gone while the server still runs, and that a shutdown with stalled
// clients whose buffers are full ends within the bound and leaves no
// goroutine behind.
func leaks(e *env) {
	if !e.stuck() {
		partings(e)
	}
	e.closeClients()
	base, baseIDs := e.warm, e.warmIDs
	if base == nil { // the warm-up client got stuck
		base, baseIDs = e.baseline, e.before
	}
	if err := findLeaks(e, base, baseIDs); err != nil {
		e.violate(propLeaks, "goroutines remain after every client left, while the server runs:\n%v", err)
	}
	if !e.target.listens() {
		e.skipPhase("shutdown with stalled clients", fmt.Sprintf("the suite cannot stop %v", e.target))
		e.shutdown()
		return
	}
	e.logf("shutdown with stalled clients whose buffers are full")
	role := e.subscriber()
	if role == nil {
		role = e.requester()
	}
	var st []*client
	for range 2 {
		if c := e.connect(stalled, role); c != nil {
			st = append(st, c)
			e.smallBuffers(c)
		}
	}
	full := false
	if p := e.connect(healthy, e.requester()); p != nil && !e.stuck() {
		full = len(st) > 0 && e.fillBuffers(p, st, false)
	}
	switch {
	case full:
		e.phaseRan(blockedShutdown)
	case !e.stuck():
		// A shutdown with stalled clients still follows, but no writer of
		// the server's was blocked on them: if no check of the Run gets
		// one blocked, the verdict says so.
		e.skipPhase(blockedShutdown, "the server's writes to its stalled clients were not seen blocked before shutdown, in any check")
	}
	e.cancel()
	if !e.within(e.serveEnd) {
		e.violate(propLeaks, "Serve did not return within %v with stalled clients connected", e.bound)
		e.closeClients()
		return
	}
	if e.proto.Connect != nil && e.label == "" {
		// A client library's goroutines (readers, reconnects) run in this
		// process beside the server's, often in the same packages, and
		// with no Serve call of the suite's, no label tells them apart:
		// close the clients first. (A server goroutine blocked writing to
		// a stalled library client is then set free: a blind spot.) With
		// a label, the stalled clients stay stalled, as wire clients do.
		e.closeClients()
	}
	if err := findLeaks(e, e.baseline, e.before, goleak.IgnoreAnyFunction(stacks.Harness+"(*wireClient).readLoop"),
		goleak.IgnoreAnyFunction(stacks.Harness+"(*libClient).watchDropped")); err != nil {
		e.violate(propLeaks, "goroutines remain after Serve returned:\n%v", err)
	}
	e.closeClients()
	e.closeListener()
}

// blockedShutdown is the phase of leaks that shuts the server down while
// its writes to stalled clients are blocked.
const blockedShutdown = "a shutdown with the server's writes blocked"

// fillBuffers makes p publish until the server's writes to every stalled
// client have blocked on a full buffer (seen on the in-memory network, or
// in the kernel's view), for 64 rounds of 64 publishes at most, or, if
// long, for as long as the bound. A server that conflates the pushes of a
// client that has fallen behind fills its buffer slowly, the more so the
// busier the machine: a one-slot mailbox that keeps the oldest pending
// push filled it in 64 rounds on a quiet machine, but not beside the other
// packages' tests, so delivery's stall phase ran with the server's writes
// not blocked and passed it. Delivery's first check fills long. It
// reports whether the server's writes to every stalled client blocked,
// or the server closed it.
func (e *env) fillBuffers(p *client, st []*client, long bool) (full bool) {
	isFull := func() bool {
		for _, c := range st {
			if e.kernel().exact() {
				// A real socket (spliced, or a Run over loopback TCP): a
				// splice's own buffer is full long before the server's;
				// the kernel says when the server's writes block.
				if !e.serverBlocked(c) && !e.serverLetGo(c) {
					return false
				}
				continue
			}
			for _, conn := range c.connections() {
				// A server that closed the client has given up on it:
				// nothing more will fill.
				peer := conn.Peer()
				if peer == nil || !blocked(peer) && !closedByServer(conn) {
					return false
				}
			}
		}
		return true
	}
	b := e.newBound()
	defer b.stop()
	rounds := 64
	if long {
		rounds = 4096 // and the bound: publishing may take no virtual time
	}
	i := 0
	for ; i < rounds && !isFull(); i++ {
		if p.t.parallel(64); e.stuck() || b.left() <= 0 {
			break
		}
	}
	full = isFull()
	e.logf("stalled clients' buffers full: %v (%d rounds of 64 publishes)", full, i)
	return full
}

// smallBuffers shrinks the in-memory buffers between the server and
// client c to shutdownBuffer bytes, so that a server that conflates or
// paces its pushes fills them within a few publishes: with the default
// 64 KiB, the reference's never filled in the 64 rounds of publishes
// before shutdown; with 64 bytes, in 3 to 14. Over TCP it does nothing.
func (e *env) smallBuffers(c *client) {
	if !e.inMemory(c) {
		return
	}
	for _, conn := range c.connections() {
		if peer := conn.Peer(); peer != nil {
			_ = conn.SetReadBuffer(0)
			_ = peer.SetWriteBuffer(shutdownBuffer)
		}
	}
}

// shutdownBuffer is how many bytes the server's writes to a stalled client
// take before they block, in the leaks property's shutdown phase.
const shutdownBuffer = 64

// blocked reports whether a connection end's Write has blocked on a full
// buffer.
func blocked(c interface{ Events() []faultnet.Event }) bool {
	for _, ev := range c.Events() {
		if ev.Kind == faultnet.EventBufferFull {
			return true
		}
	}
	return false
}

// findLeaks polls, for up to the bound, for goroutines newer than base
// (whose IDs are baseIDs) that are not the harness's. When the suite
// started the server and dumps show labels, only goroutines that may be
// this check's server's count (e.owner): not its clients', nor,
// side by side, other checks' servers'. What remains at the end is then
// confirmed with goleak, so that IgnoreGoroutines and goleak's own
// filters apply; with IgnoreGoroutines, goleak is asked along the way too,
// once for each new goroutine, so that an ignored one does not hold the
// check for the whole bound.
func findLeaks(e *env, base goleak.Option, baseIDs map[string]bool, more ...goleak.Option) error {
	opts := append([]goleak.Option{base}, e.cfg.leakOpts...)
	opts = append(opts, more...)
	timeLeft := e.boundLeft()
	owner := e.owner()
	if owner.Label == "" {
		for {
			err := goleak.Find(opts...)
			if err == nil || timeLeft() <= 0 {
				return err
			}
		}
	}
	ignored, asked := map[string]bool{}, map[string]bool{}
	seen := map[string]stacks.Goroutine{} // every server goroutine seen since the check began, as last seen
	look := func() []stacks.Goroutine {
		now := stacks.Since(baseIDs, owner)
		for _, g := range now {
			seen[g.ID] = g
		}
		return now
	}
	var left []stacks.Goroutine
	var confirm chan error // goleak's word, asked beside the polling in a shrink attempt (see goleakRetries)
	probe := e.bound < e.cfg.bound
	for {
		left = slices.DeleteFunc(look(), func(g stacks.Goroutine) bool { return ignored[g.ID] })
		if len(left) == 0 {
			if confirm != nil && e.virtual {
				<-confirm // a bubble's goroutines end in it; its sleeps cost no wall time
			}
			return nil // outside a bubble, goleak, if asked, answers to no one: the Run waits for it (lookers)
		}
		if timeLeft() <= 0 {
			break
		}
		if probe && confirm == nil && timeLeft() <= goleakRetries {
			confirm = make(chan error, 1)
			ask := func() { confirm <- goleak.Find(opts...) }
			if e.virtual {
				go ask()
			} else {
				e.cfg.looker(ask)
			}
		}
		if len(e.cfg.leakOpts) > 0 && slices.ContainsFunc(left, func(g stacks.Goroutine) bool { return !asked[g.ID] }) {
			err := goleak.Find(opts...)
			found := map[string]bool{}
			if err != nil {
				found = goleakIDs(err.Error())
			}
			for _, g := range left {
				asked[g.ID] = true
				if (err == nil || len(found) > 0) && !found[g.ID] {
					ignored[g.ID] = true // goleak ignores it, or it has ended
				}
			}
			continue
		}
		time.Sleep(leakPoll) // polling, as goleak does: nothing says when a goroutine ends
	}
	// While goleak looks, the suite looks too, so that a goroutine left
	// at the bound that hands over to another, which hands over in turn,
	// is traced to the one goleak names (handedOver) through the ones
	// that have ended. One that lives less than a look takes (leakPoll
	// and a dump: more on a loaded machine) may break the trace.
	wait := func(answer <-chan error) error {
		for {
			select {
			case err := <-answer:
				look()
				if err != nil {
					// goleak quotes the dump of each goroutine it names:
					// one that the suite did not see is in it, with
					// its starter.
					for _, g := range goleakStacks(err.Error()) {
						if _, ok := seen[g.ID]; !ok {
							seen[g.ID] = g
						}
					}
				}
				return err
			default:
			}
			look()
			time.Sleep(leakPoll)
		}
	}
	suspects := func() []stacks.Goroutine {
		all := slices.SortedFunc(maps.Values(seen), func(a, b stacks.Goroutine) int {
			return cmp.Or(cmp.Compare(len(a.ID), len(b.ID)), strings.Compare(a.ID, b.ID)) // in the order they began
		})
		return append(slices.Clone(left), handedOver(left, all)...)
	}
	var err error
	if confirm != nil {
		// Its last look was about when the bound ran out. If it names
		// none of those left, nor any they handed over to, it looked
		// before they began, or every one it saw has ended since: ask
		// again.
		if err = wait(confirm); err != nil {
			named := goleakIDs(err.Error())
			if !slices.ContainsFunc(suspects(), func(g stacks.Goroutine) bool { return named[g.ID] }) {
				err = nil
			}
		}
	}
	if err == nil {
		// goleak looks again for a while before it answers (goleakRetries):
		// a goroutine that ends meanwhile is not a leak.
		answer := make(chan error, 1)
		go func() { answer <- goleak.Find(opts...) }()
		err = wait(answer)
	}
	if err == nil {
		return nil
	}
	found := goleakIDs(err.Error())
	if len(found) == 0 {
		return err // a goleak that words its error otherwise: its word stands
	}
	var b strings.Builder
	var leaked []stacks.Goroutine
	for _, g := range suspects() {
		if found[g.ID] && !ignored[g.ID] {
			fmt.Fprintf(&b, "%s\n\n", g.Text)
			leaked = append(leaked, g)
		}
	}
	if b.Len() == 0 {
		return nil // what was left is goleak's to ignore
	}
	return errors.New(strings.TrimSpace(b.String()) + leakDoubts(leaked))
}

// leakDoubts says why some of the goroutines a leak check reports may not
// be the server's after all, and what to do about it; "" if none may not.
func leakDoubts(gs []stacks.Goroutine) string {
	doubts := map[stacks.Doubt]bool{}
	for _, g := range gs {
		doubts[g.Doubt] = true
	}
	var b strings.Builder
	if doubts[stacks.ByMain] {
		b.WriteString("\n(Some of these descend from a goroutine that the main goroutine started. An init function's hub is the server's; a fixture that TestMain started, which another test used meanwhile, is not; the two cannot be told apart. If they are a fixture's, pass IgnoreGoroutines for them.)")
	}
	if doubts[stacks.StarterEnded] {
		b.WriteString("\n(Some of these were started by a goroutine that has ended, so whose they are cannot be told: a server's timer leaves such goroutines, and so does another test's client library, such as an http.Transport's connections. If they are another test's, keep that test out of this binary, or pass IgnoreGoroutines for them.)")
	}
	return b.String()
}

// handedOver returns the goroutines of now that are not in left but
// descend from one that is: one left at the bound may hand over to
// another, which began while goleak looked again, and ends; that one may
// hand over in turn. So now holds every goroutine seen since the check
// began, ended ones too, and the line of descent is followed through
// them. A goroutine that began meanwhile otherwise (a short-lived worker
// of the server's) is not a leak.
func handedOver(left, now []stacks.Goroutine) []stacks.Goroutine {
	from := map[string]bool{}
	for _, g := range left {
		from[g.ID] = true
	}
	parent := map[string]string{}
	for _, g := range now {
		parent[g.ID] = g.Parent
	}
	var out []stacks.Goroutine
	for _, g := range now {
		if from[g.ID] {
			continue
		}
		id := g.Parent
		for range len(now) + 1 {
			if from[id] {
				out = append(out, g)
				break
			}
			p, ok := parent[id]
			if !ok {
				break
			}
			id = p
		}
	}
	return out
}

// leakPoll is how often findLeaks looks again.
const leakPoll = 5 * time.Millisecond

// goleakRetries is about how long goleak.Find takes to report goroutines
// that remain: it looks again 20 times, sleeping up to 100 ms between
// (goleak v1.3.0, which offers no way to shorten it), some 430 ms. Asked
// after the bound, as in a check with the full bound, that is a grace on
// top of it: a server's goroutine that ends within it is not a leak. A
// shrink attempt, whose probe bound is an eighth as long, would pay it in
// every attempt (0.72 s of a 0.25 s probe bound's attempt): there
// findLeaks asks goleak that long before the probe bound runs out, beside
// its own polling, and goleak's last look falls about when the bound does.
const goleakRetries = 450 * time.Millisecond

// goleakIDs reads the IDs of the goroutines that goleak.Find's error
// names ("Goroutine 7 in state select, with ...").
func goleakIDs(msg string) map[string]bool {
	ids := map[string]bool{}
	for _, m := range goleakHead.FindAllStringSubmatch(msg, -1) {
		ids[m[1]] = true
	}
	return ids
}

// goleakStacks reads the goroutines that goleak.Find's error quotes:
// after each "Goroutine 7 in state select, with f on top of the stack:",
// that goroutine's frames as the runtime's dump has them, the last its
// "created by f in goroutine 3", up to the next such line or the closing
// "]". Each comes back as a block of a dump would: its ID, its starter's,
// and its text under a dump's header ("goroutine 7 [select]:").
func goleakStacks(msg string) []stacks.Goroutine {
	var out []stacks.Goroutine
	heads := goleakHead.FindAllStringSubmatchIndex(msg, -1)
	for i, h := range heads {
		end := len(msg)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		body := strings.TrimSuffix(strings.TrimSpace(msg[h[1]:end]), "]")
		dump := fmt.Sprintf("goroutine %s [%s]:\n%s", msg[h[2]:h[3]], msg[h[4]:h[5]], strings.TrimSpace(body))
		out = append(out, stacks.Parse(dump)...)
	}
	return out
}

// goleakHead is the line with which goleak.Find's error begins each
// goroutine it names.
var goleakHead = regexp.MustCompile(`Goroutine (\d+) in state ([^\n]*?), with [^\n]* on top of the stack:\n`)
