package properties

import "time"

// pressure ends a progress scenario with a burst of accept errors, then a
// stalled subscriber connected and enough concurrent requests to fill its
// buffer many times over: an accept loop that gives up on EMFILE, or a
// server that blocks on one client's Write, fails here whatever the
// scenario before.
func pressure(e *env) {
	role := e.subscriber()
	if role == nil {
		role = e.requester()
	}
	if e.failAccepts(3) {
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
// 2,000 rounds. That is cheap when the server's buffers are small (the
// suite shrank them, or RunExec's namespace did), so every check does it;
// with the kernel's 4 MiB buffers, only the first check of a property
// does. And the first check of each property goes on until
// target.deepPush bytes reached a healthy client (5 MiB; 512 KiB under
// RunExec), even when the kernel shows the server blocked sooner: the
// socket the suite sees may be a proxy's, with a server behind it whose
// own buffers hold megabytes, and a runtime may buffer in user space.
// Without a view of the server's sockets, that push is all there is, a
// guess that the report states.
func (e *env) pushUntilBlocked(st *client) {
	kv := e.target.kernel()
	small := e.target.smallSocketBuffers()
	budget := e.target.deepPush()
	deep := budget > 0 && e.cfg.firstTime(e.prop, "deep push")
	watch := kv.exact() && st != nil && (small || deep)
	guess := !watch && deep
	switch {
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
	pushed0 := e.healthyPushed()
	blockedAt := int64(-1) // healthy push bytes when st was seen blocked
	for i := 0; ; i++ {
		before, n := e.healthyPushed(), e.parallel(200)
		if e.stuck() {
			return
		}
		now := e.healthyPushed()
		pushing := now-before >= int64(n) && i < 2000 && time.Now().Before(until)
		more := false
		switch {
		case watch && blockedAt < 0 && (e.serverBlocked(st) || e.serverLetGo(st)):
			blockedAt = now
			more = true
		case watch && blockedAt < 0:
			more = pushing
		case watch:
			more = pushing && (now-blockedAt < afterBlocked || deep && now-pushed0 < budget)
		case guess:
			more = pushing && now-pushed0 < budget
		}
		if i >= 1 && !more {
			e.logf("pressure: %d rounds; %d bytes pushed to a healthy client; the server's writes to the stalled client blocked: %s",
				i+1, now-pushed0, map[bool]string{true: "yes", false: "not seen"}[st != nil && st.serverBlockedAt.Load() != 0])
			return
		}
	}
}

// afterBlocked is how much pressure pushes to a healthy client after the
// kernel showed the server's writes to a stalled client blocked: four
// times what asyncio's writer buffers before drain() waits.
const afterBlocked = 256 << 10

// healthyPushed returns the most push bytes any owed client has received.
func (e *env) healthyPushed() int64 {
	var most int64
	for _, c := range e.clientList() {
		if owed(c) {
			c.mu.Lock()
			most = max(most, c.pushBytes)
			c.mu.Unlock()
		}
	}
	return most
}
