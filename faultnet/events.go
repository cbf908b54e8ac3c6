package faultnet

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// EventKind says what happened to a connection.
type EventKind uint8

// Event kinds.
const (
	EventInject     EventKind = iota + 1 // a fault was injected (scheduled ones fire later)
	EventFire                            // a scheduled fault took effect
	EventRemove                          // a fault was switched off
	EventBufferFull                      // a Write blocked on a full buffer (once per episode)
	EventReset                           // the connection was reset
	EventClose                           // Close
	EventCloseWrite                      // CloseWrite
	EventCloseRead                       // CloseRead
	// EventFarClose: across a Splice (or a Proxy), the program on the far
	// side closed its connection while this end was not taking the data
	// before the close: a stalled client's server evicted it. The data and
	// then the EOF still follow, in order, if this end's peer resumes
	// reading, as they would reach a real TCP client. Logged once, on the
	// end the splice writes that data to.
	EventFarClose
)

var eventNames = [...]string{"?", "inject", "fire", "remove", "buffer-full", "reset", "close", "close-write", "close-read", "far-close"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// Event is one entry in a connection's log: enough for a failure report to
// say "client-3: buffer-full at byte 65536, t=12ms".
type Event struct {
	Conn   string        // the connection's name
	At     time.Duration // since the connection was created
	Kind   EventKind
	Detail string // the fault, or other detail
	Byte   int64  // bytes written (buffer-full) or -1
}

// String formats the event on one line.
func (e Event) String() string {
	s := fmt.Sprintf("t=%v %s: %v", e.At.Round(time.Microsecond), e.Conn, e.Kind)
	if e.Detail != "" {
		s += " " + e.Detail
	}
	if e.Byte >= 0 {
		s += fmt.Sprintf(" at byte %d", e.Byte)
	}
	return s
}

type eventLog struct {
	c       *Conn
	mu      sync.Mutex
	events  []Event
	max     int
	dropped int
	onEvent func(Event)
}

func (l *eventLog) init(c *Conn, cfg *config) {
	l.c, l.max, l.onEvent = c, cfg.maxEvents, cfg.onEvent
}

// add logs an event. It may be called with a side's lock held.
func (l *eventLog) add(kind EventKind, detail string, byteOff int64) {
	e := Event{Conn: l.c.name, At: time.Since(l.c.born), Kind: kind, Detail: detail, Byte: byteOff}
	l.mu.Lock()
	if len(l.events) < l.max {
		l.events = append(l.events, e)
	} else {
		l.dropped++
	}
	l.mu.Unlock()
	if l.onEvent != nil {
		l.onEvent(e)
	}
}

// Events returns the connection's event log, oldest first: faults injected,
// fired and removed, buffers found full, closes and resets. The log keeps
// the first 1024 events.
func (c *Conn) Events() []Event {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	return slices.Clone(c.log.events)
}

// Stats are a connection's counters, as seen from one end.
type Stats struct {
	Written      int64         // bytes this end wrote
	Read         int64         // bytes this end read
	Unsent       int64         // in memory: bytes written and not yet read by the peer
	Unread       int64         // in memory: bytes waiting for this end to read
	WriteBlocked time.Duration // time Writes spent waiting: full buffer, stalls, pacing
	ReadBlocked  time.Duration // time Reads spent waiting: no data, stalls, pacing
	Faults       []string      // the faults injected and not removed
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats {
	st := Stats{Written: c.wr.bytes.Load(), Read: c.rd.bytes.Load()}
	c.wr.mu.Lock()
	st.WriteBlocked = c.wr.blocked
	st.Unsent = c.t.unsent()
	c.wr.mu.Unlock()
	c.rd.mu.Lock()
	st.ReadBlocked = c.rd.blocked
	st.Unread = c.t.unread()
	c.rd.mu.Unlock()
	c.injMu.Lock()
	for _, inj := range c.live {
		st.Faults = append(st.Faults, inj.String())
	}
	c.injMu.Unlock()
	return st
}
