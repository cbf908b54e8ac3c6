package properties

import (
	"slices"
	"time"
)

// isolation compares a healthy client's answer latency without and with
// stalled and flooding peers, measured in the same check. A server that
// stops answering fails progress, and so this check too: a frozen server
// is never isolated.
func isolation(e *env) {
	const reqs = 30 // per measurement
	c := e.connect(healthy, e.requester())
	if c == nil || e.stuck() {
		return
	}
	timed := func() (time.Duration, bool) {
		start := time.Now()
		e.request(c, 0)
		return time.Since(start), !e.stuck()
	}
	calm := make([]time.Duration, 0, reqs)
	for range reqs {
		d, ok := timed()
		if !ok {
			return
		}
		calm = append(calm, d)
	}
	base := median(calm)
	limit := 20*base + 50*time.Millisecond
	e.logf("median answer latency alone: %v; limit with stalled peers: %v", base, limit)
	role := e.subscriber()
	if role == nil {
		role = e.requester()
	}
	for range 4 {
		s := e.connect(stalled, role)
		switch {
		case s == nil:
		case e.target.kernel().exact() && e.makesRequests(s.role) && s.onWire():
			// Spliced to a real socket: its replies must fill the
			// splice and both socket buffers before the server's writes
			// block; request until the kernel shows they do.
			e.pipelineUntilBlocked(s, 16<<20)
		default:
			e.pipeline(s, 1, 500)
			if e.target.smallSocketBuffers() && e.makesRequests(s.role) && s.onWire() && e.cfg.firstTime(e.prop, "deep push") {
				// Socket buffers on both sides of the namespace's sockets,
				// and the server's runtime, hold tens of kilobytes of
				// answers: in the first check, fill them too.
				e.pipelineUntilBlocked(s, 256<<10)
			}
		}
	}
	if f := e.connect(flooder, e.requester()); f != nil {
		e.pipeline(f, 2, 2000)
	}
	// The first requests fill the stalled clients' buffers; the last ones
	// are measured. A server that makes each request wait for its stalled
	// peers is found before the end: waiting out every slow request would
	// only make the check slow.
	const fill, slowMax = 50, 10
	var busy []time.Duration
	slow := 0
	for i := range fill + reqs {
		d, ok := timed()
		if !ok {
			return
		}
		if d > limit {
			slow++
		}
		if slow == slowMax {
			e.violate(propIsolation, "%d of %d requests took over %v with stalled peers (median alone %v)", slow, i+1, limit, base)
			return
		}
		if i >= fill {
			busy = append(busy, d)
		}
	}
	m := median(busy)
	e.logf("median answer latency with 4 stalled clients and a flooder: %v", m)
	if m > limit {
		e.violate(propIsolation, "median answer latency %v with stalled peers, %v without (limit %v)", m, base, limit)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// String returns the property's name.
