package properties

import (
	"fmt"
	"strings"
)

// The bounded property's heap measurement: how much the server's heap may
// grow while stalled clients are owed pushes, and what to say about it.
//
// An unbounded queue holds every push owed to a stalled client, and then
// some (each queued message costs its bytes plus a slice header), so the
// limit for a strict server is half of what the stalled clients were
// owed, or heapFloor, whichever is larger: the floor absorbs the
// measurement's own noise, and with it small and large messages get the
// same verdict (a fixed slack of 256 KiB let an unbounded queue of 8-byte
// messages pass). What the server declares (HeapPerStalledClient, Drop,
// DropMessages) is allowed on top, per stalled client.

// heapFloor is the smallest limit of heap growth: the noise of a
// measurement after a forced GC.
const heapFloor = 128 << 10

// heapMeasure is one check's heap measurement.
type heapMeasure struct {
	growth    int64 // bytes the heap grew over the measurement
	stalled   int   // stalled clients
	publishes int   // requests made over the measurement
	pushSize  int64 // average push a healthy subscriber received; 0 if none

	owed     int64 // bytes owed to each stalled client: publishes × pushSize
	slack    int64 // the limit without declarations
	declared int64 // the declared allowance per stalled client
	limit    int64 // slack + stalled × declared
}

// enough reports whether the stalled clients were owed enough, in all,
// that an unbounded queue of it would pass the slack: four times the
// floor.
func (m heapMeasure) enough() bool {
	return int64(m.publishes)*m.pushSize*int64(m.stalled) >= 4*heapFloor
}

// limits computes the measurement's limit under cfg's declarations.
func (m *heapMeasure) limits(cfg *config) {
	m.owed = int64(m.publishes) * m.pushSize
	m.slack = max(heapFloor, m.owed*int64(m.stalled)/2)
	m.declared = int64(cfg.heapPerStalled)
	if cfg.policy.action == drop {
		m.declared += int64(cfg.policy.maxQueued)
		size := m.pushSize
		if size == 0 {
			size = 1 << 10 // no push seen: count a message as 1 KiB
		}
		m.declared += int64(cfg.policy.maxMsgs) * size
	}
	m.limit = m.slack + int64(m.stalled)*m.declared
}

func (m heapMeasure) String() string {
	return fmt.Sprintf("grew %s of %s allowed (%s)", signedBytes(m.growth), humanBytes(m.limit), m.why())
}

// why says what the limit is made of.
func (m heapMeasure) why() string {
	s := fmt.Sprintf("slack %s", humanBytes(m.slack))
	if m.pushSize > 0 {
		s += fmt.Sprintf(" for %s owed to each of %d stalled clients", humanBytes(m.owed), m.stalled)
	}
	if m.declared > 0 {
		s += fmt.Sprintf(", and %s declared per stalled client", humanBytes(m.declared))
	}
	return s
}

// noteHeap keeps property under's measurements: the largest growth and
// its limit, and the smallest owed, for the verdict.
func (c *config) noteHeap(under string, m heapMeasure) {
	c.run.mu.Lock()
	defer c.run.mu.Unlock()
	old, ok := c.run.heaps[under]
	if !ok || m.growth > old.growth {
		if ok && old.pushSize > 0 && (m.pushSize == 0 || old.owed < m.owed) {
			m.owed = old.owed // keep the smallest owed
		}
		c.run.heaps[under] = m
	}
}

// heapNote is what property under's verdict says of its heap measurements:
// the largest growth beside what was allowed; and, when a declared
// allowance is far above anything measured, or above anything the
// scenario could have queued, that it would hide a leak.
func (c *config) heapNote(under string) string {
	c.run.mu.Lock()
	m, ok := c.run.heaps[under]
	c.run.mu.Unlock()
	if !ok {
		return ""
	}
	notes := []string{fmt.Sprintf("heap %s at most, of %s allowed (%s)", signedBytes(m.growth), humanBytes(m.limit), m.why())}
	if m.declared > 0 {
		allowed := m.declared * int64(m.stalled)
		if allowed > 10*max(m.growth, 1<<10) {
			notes = append(notes, fmt.Sprintf("the declared allowance (%s for %d stalled clients) is more than 10× the largest growth measured: it would hide a leak that large", humanBytes(allowed), m.stalled))
		}
		if m.pushSize > 0 && m.declared > m.owed {
			notes = append(notes, fmt.Sprintf("the declared %s per stalled client is more than a check owed one (%s): no queue could have reached it", humanBytes(m.declared), humanBytes(m.owed)))
		}
	}
	return strings.Join(notes, "; ")
}

// humanBytes formats n bytes as "1.1 MB", "384 MiB" when exact, "912 B".
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0 && n < 1<<20:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// signedBytes is humanBytes with a sign: "+1.1 MB", "-20.0 kB".
func signedBytes(n int64) string {
	if n < 0 {
		return "-" + humanBytes(-n)
	}
	return "+" + humanBytes(n)
}
