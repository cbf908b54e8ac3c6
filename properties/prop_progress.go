package properties

import (
	"fmt"
	"time"
)

// pressure ends a progress scenario with a burst of accept errors, then a
// stalled subscriber connected and enough concurrent requests to fill its
// buffer many times over: an accept loop that gives up on EMFILE, or a
// server that blocks on one client's Write, fails here whatever the
// scenario before. The burst of accept errors is the first check's (and,
// once one failed, every check's): a server backs off after each error,
// 35 ms for three with net/http's backoff, and later checks draw their
// own bursts among their steps.
func pressure(e *env) {
	role := e.subscriber()
	if role == nil {
		role = e.requester()
	}
	if e.cfg.firstTime(e.prop, "accept errors") && e.failAccepts(3) {
		e.logf("pressure: the next 3 Accepts fail with EMFILE; a client connects")
		if e.connect(healthy, e.requester()); e.stuck() {
			return
		}
	}
	st := e.connect(stalled, role)
	if e.stuck() {
		return
	}
	if req := e.requester(); role != req && role.Subscribes && e.target != nil && e.target.addr != "" {
		// A healthy subscriber too: what it is pushed tells pressure
		// that the server pushes per request, and so that the stalled
		// one is owed as much, while the suite waits for the server's
		// writes to it to block.
		if e.connect(healthy, role); e.stuck() {
			return
		}
	}
	owedRequester := false
	for _, c := range e.clientList() {
		owedRequester = owedRequester || (owed(c) && e.makesRequests(c.role))
	}
	if !owedRequester {
		e.connect(healthy, e.requester())
	}
	e.pushUntilBlocked(st)
}

// pushUntilBlocked is pressure's burst: every healthy client sends 200
// requests at once, twice at least. Against a server reached over TCP,
// it goes on until the kernel shows the server's writes to the stalled
// client st blocked, then until afterBlocked more bytes were pushed to a
// healthy client: past the kernel, a server may queue in its own memory
// before its code waits (asyncio's writer, 64 KiB), and must go on
// serving with a blocked client all the same. All that as long as the
// server pushes something per request (a conflating server pushes far
// less, and may never block), within 60 s (5 s in a shrink attempt) and
// 2,000 rounds, and, but in the deep push below, while what it still
// lacks is within 96 rounds at its mean rate so far (reach). That is
// cheap when the server's buffers are small (the suite shrank them, or
// RunExec's namespace did), so every check does it; with the kernel's
// 4 MiB buffers, only the first check of a property does. And the first
// check of each property goes on until target.deepPush bytes reached a
// healthy client (5 MiB; 512 KiB under RunExec), even when the kernel
// shows the server blocked sooner: the socket the suite sees may be a
// proxy's, with a server behind it whose own buffers hold megabytes, and
// a runtime may buffer in user space. Unless the process holding the
// server's end of the stalled client's connection holds no socket that
// could lead to another process (writesItself): then nothing stands
// between, and the deep push goes on past the block for afterBlocked
// bytes, and deepStallPushes pushes (within the 5 MiB), as in memory:
// with small messages that is seconds, not a minute. Without a view of
// the server's sockets, the push is all there is, a guess that the
// report states.
func (e *env) pushUntilBlocked(st *client) {
	kv := e.kernel()
	small := e.target.smallSocketBuffers()
	budget := e.target.deepPush()
	// In memory, faultnet logs the moment the server's Write to st finds
	// its buffer full: the view is exact, and the first check goes on for
	// deepStallPushes more pushes, past any plausible per-client queue.
	// So does a Run over loopback TCP, where the kernel shows it: the
	// server's sockets are the suite's listener's, with small buffers, and
	// nothing stands between. Either way the view is direct.
	direct := st != nil && (e.inMemory(st) || e.target == nil && kv.exact())
	deep := (budget > 0 || direct) && e.cfg.firstTime(e.prop, "deep push")
	watch := direct || kv.exact() && st != nil && (small || deep)
	guess := !watch && deep
	switch {
	case direct && deep:
		e.logf("pressure: %v stalls; every healthy client sends 200 requests at once, until the server's writes to it block, and on until %d more pushes reached a healthy client (more than any per-client queue)", st, deepStallPushes)
	case direct:
		e.logf("pressure: %v stalls; every healthy client sends 200 requests at once, until the server's writes to it block, and once more", st)
	case watch && deep:
		e.logf("pressure: %v stalls; every healthy client sends 200 requests at once, until the server's writes to it block and %d KiB were pushed to a healthy client (a proxy may stand before the server; its runtime may buffer)", st, budget>>10)
	case watch:
		e.logf("pressure: %v stalls; every healthy client sends 200 requests at once, until the server's writes to it block, and 256 KiB more", st)
	case guess:
		why := "the server's socket buffers"
		if kv != nil && kv.why != "" {
			why = kv.why
		}
		e.logf("pressure: a client stalls; every healthy client sends 200 requests at once, and on until %d KiB were pushed to a healthy client (a guess: %s)", budget>>10, why)
	default:
		e.logf("pressure: a client stalls; every healthy client sends 200 requests at once, twice")
	}
	limit := 60 * time.Second
	if e.cfg.shrinking(e.prop) {
		// A shrink attempt that freezes the server does so as soon as
		// the buffers fill; one that does not would push for long.
		limit = 5 * time.Second
	}
	until := time.Now().Add(limit)
	pushed0, _ := e.healthyPushed()
	blockedAt := int64(-1) // healthy push bytes when st was seen blocked
	var countAt int        // and pushes
	short := ""            // why pressure stopped short of its byte goals
	own := false           // the server writes to st itself (writesItself)
	pushedLast := false    // the last round pushed something per request
	var requests int64     // made in all the rounds
	for i := 0; ; i++ {
		before, _ := e.healthyPushed()
		n := e.parallel(200)
		if e.stuck() {
			return
		}
		now, count := e.healthyPushed()
		requests += int64(n)
		pushedNow := now-before >= int64(n)
		pushing := stillPushing(pushedNow, pushedLast, now-pushed0, requests) && i < 2000 && time.Now().Before(until)
		pushedLast = pushedNow
		more := false
		switch {
		case watch && blockedAt < 0 && (e.serverBlocked(st) || e.serverLetGo(st)):
			blockedAt, countAt = now, count
			more = true
			if deep && !direct {
				var why string
				if own, why = e.writesItself(st); own {
					e.logf("pressure: %s: nothing stands between the suite and the server; on until %d KiB more and %d pushes more (or %d KiB in all) reached a healthy client", why, afterBlocked>>10, deepStallPushes, budget>>10)
				} else {
					e.logf("pressure: %s: a server may stand behind it; on until %d KiB reached a healthy client", why, budget>>10)
				}
			}
		case watch && blockedAt < 0:
			more = pushing
		case direct:
			more = pushing && deep && count-countAt < deepStallPushes
		case watch && deep && own:
			more = pushing && (now-blockedAt < afterBlocked || count-countAt < deepStallPushes && now-pushed0 < budget)
		case watch && deep:
			more = pushing && (now-blockedAt < afterBlocked || now-pushed0 < budget)
		case watch:
			more, short = reach(pushing, (now-pushed0)/int64(i+1), afterBlocked-(now-blockedAt))
		case guess:
			more = pushing && now-pushed0 < budget
		}
		if i >= 1 && !more {
			e.logf("pressure: %d rounds; %d bytes pushed to a healthy client; the server's writes to the stalled client blocked: %s%s",
				i+1, now-pushed0, map[bool]string{true: "yes", false: "not seen"}[st != nil && st.serverBlockedAt.Load() != 0], short)
			return
		}
	}
}

// stillPushing reports whether pressure's rounds show a server pushing
// something per request: this round did (pushedNow, a byte a request or
// more), or the round before did and the server has pushed a message per
// request so far (pushed bytes in all, minPush or more for each of the
// requests). A healthy subscriber's pushes can trail the replies that end
// a round (Redis's did, in half of the first checks): one slow round is
// not a server that conflates. A conflating one (the reference, a byte
// or two a request) gets no such second chance: it would push on for
// seconds before its writes block, if ever.
func stillPushing(pushedNow, pushedLast bool, pushed, requests int64) bool {
	return pushedNow || pushedLast && pushed >= minPush*requests
}

// reach reports whether pressure goes on after the server's writes to
// the stalled client were seen blocked, in a check without the deep push:
// while the server is pushing (something per request), a healthy client
// still lacks need bytes of pushes since the block, and perRound bytes a
// round (the mean so far) would get there within reachRounds more rounds.
// A server that pushes far less than that a round conflates or paces its
// pushes, the more so the less CPU it gets: beside other tests the
// reference pushed 1 KiB a round, and pressure went on for up to 60 s to
// push 256 KiB. If the goal is out of reach, why says so, for the log.
//
// The first check's deep push has no such limit: through a proxy, the
// server behind it is frozen only once megabytes filled the proxy's
// buffers and its own, and lock-across-write, at 7 KiB a round, passed a
// check through stallproof proxy that stopped at 96 rounds.
func reach(pushing bool, perRound, need int64) (more bool, why string) {
	switch {
	case !pushing || need <= 0:
		return false, ""
	case perRound*reachRounds >= need:
		return true, ""
	}
	return false, fmt.Sprintf(" (stopped %d bytes short of %d more after the block: %d bytes a round, out of reach in %d rounds)", need, afterBlocked, perRound, reachRounds)
}

// minPush is the least mean push, in bytes a request, of a server that
// pushes a message for each request: the smallest message the suite's
// tests use is 8 bytes.
const minPush = 8

// reachRounds is how many more rounds pressure may take to push what it
// still lacks, at the mean rate so far.
const reachRounds = 96

// afterBlocked is how much pressure pushes to a healthy client after the
// kernel showed the server's writes to a stalled client blocked: four
// times what asyncio's writer buffers before drain() waits.
const afterBlocked = 256 << 10

// deepStallPushes is how many pushes the first check of progress makes
// reach a healthy client after the server's writes to a stalled client
// blocked, in memory: a server that queues a stalled client's pushes in a
// bounded queue and then waits for room (a channel of 16, or of 1024) is
// frozen by then.
const deepStallPushes = 2048

// healthyPushed returns the most push bytes any owed client has received,
// and the most pushes.
func (e *env) healthyPushed() (bytes int64, pushes int) {
	for _, c := range e.clientList() {
		if owed(c) {
			c.mu.Lock()
			bytes = max(bytes, c.pushBytes)
			pushes = max(pushes, c.pushes)
			c.mu.Unlock()
		}
	}
	return bytes, pushes
}
