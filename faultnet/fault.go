package faultnet

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// A Fault is something that goes wrong with a connection: a state that lasts
// until removed (StallReads, Latency, ...), an action that happens once
// (Reset, CloseWrite, ...), or either of those on a schedule (AfterWritten,
// AfterTime, OnTrigger). Faults are values: they print themselves as the
// call that made them, so a failing test or a shrunk counterexample reads
// as the schedule that caused it. Inject one with Conn.Inject or WithFaults.
type Fault interface {
	fmt.Stringer
	// on makes the fault take effect on c; off undoes it (state faults) or
	// cancels it if it has not fired yet (schedules).
	on(c *Conn, inj *Injection)
	off(c *Conn, inj *Injection)
}

// Injection is a fault injected into a connection. Remove switches it off.
type Injection struct {
	c       *Conn
	f       Fault
	mu      sync.Mutex // held while the fault is switched on or off
	removed bool
	fired   bool
	cancels []func()
}

// Inject makes f take effect on c, now or when its schedule says, and
// returns a handle to switch it off. It is safe to call at any time, from
// any goroutine, on a live connection.
func (c *Conn) Inject(f Fault) *Injection {
	inj := &Injection{c: c, f: f}
	c.injMu.Lock()
	c.live = append(c.live, inj)
	c.injMu.Unlock()
	c.log.add(EventInject, f.String(), -1)
	inj.mu.Lock()
	f.on(c, inj)
	inj.mu.Unlock()
	return inj
}

// Remove switches the fault off: a stall ends and blocked calls resume; a
// schedule that has not fired is cancelled. An action that already happened
// (a reset) cannot be undone. Remove is idempotent.
func (i *Injection) Remove() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.removed {
		return
	}
	i.removed = true
	for _, cancel := range i.cancels {
		cancel()
	}
	i.f.off(i.c, i)
	i.c.injMu.Lock()
	i.c.live = slices.DeleteFunc(i.c.live, func(x *Injection) bool { return x == i })
	i.c.injMu.Unlock()
	i.c.log.add(EventRemove, i.f.String(), -1)
}

// Fired reports whether a scheduled fault has taken effect; an unscheduled
// one fires when injected.
func (i *Injection) Fired() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.fired
}

// String returns the fault's description.
func (i *Injection) String() string { return i.f.String() }

// ---- state faults ----

type stateFault struct {
	desc  string
	read  bool // the fault acts on reads (else writes)
	shape func(*effect)
}

func (f stateFault) String() string { return f.desc }

func (f stateFault) side(c *Conn) *side {
	if f.read {
		return &c.rd
	}
	return &c.wr
}

func (f stateFault) on(c *Conn, inj *Injection) {
	inj.fired = true
	f.side(c).addFault(inj, f.shape)
}

func (f stateFault) off(c *Conn, inj *Injection) { f.side(c).removeFault(inj) }

// StallReads makes this end stop reading: its Reads block (until their
// deadline) and the data waits in the buffer, so the peer's Writes block once
// the buffer is full, exactly as a TCP peer's do on a zero window.
func StallReads() Fault {
	return stateFault{"StallReads()", true, func(e *effect) { e.stall = true }}
}

// BlockWrites makes this end's Writes block (until their deadline) without
// sending anything: the zero window as the writer sees it.
func BlockWrites() Fault {
	return stateFault{"BlockWrites()", false, func(e *effect) { e.stall = true }}
}

func trickle(desc string, read bool, n int, every time.Duration) Fault {
	n = max(n, 1)
	return stateFault{desc, read, func(e *effect) {
		if e.trickleN == 0 || n < e.trickleN {
			e.trickleN = n
		}
		e.every = max(e.every, every)
	}}
}

// TrickleReads makes this end read at most n bytes per interval every.
func TrickleReads(n int, every time.Duration) Fault {
	return trickle(fmt.Sprintf("TrickleReads(%d, %v)", n, every), true, n, every)
}

// TrickleWrites makes this end send at most n bytes per interval every.
func TrickleWrites(n int, every time.Duration) Fault {
	return trickle(fmt.Sprintf("TrickleWrites(%d, %v)", n, every), false, n, every)
}

// Bandwidth limits this end's writes to bytesPerSec, in steps of at most
// 20 ms of data.
func Bandwidth(bytesPerSec int64) Fault {
	bytesPerSec = max(bytesPerSec, 1)
	return stateFault{fmt.Sprintf("Bandwidth(%d)", bytesPerSec), false, func(e *effect) {
		if e.bps == 0 || bytesPerSec < e.bps {
			e.bps = bytesPerSec
		}
	}}
}

// Latency delays the bytes this end writes by d, plus or minus a jitter
// drawn uniformly from [-jitter, +jitter] with the connection's seeded
// source. Bytes are never reordered: a chunk never becomes readable before
// one written earlier. In memory the delay is in flight (the writer does not
// wait, and delayed bytes count against the buffer); on a wrapped
// connection the writer waits before each write.
func Latency(d, jitter time.Duration) Fault {
	return stateFault{fmt.Sprintf("Latency(%v, %v)", d, jitter), false, func(e *effect) {
		e.lat += d
		e.jit += jitter
	}}
}

func fragment(desc string, read bool, n int, random bool) Fault {
	n = max(n, 1)
	return stateFault{desc, read, func(e *effect) {
		if e.frag == 0 || n < e.frag {
			e.frag, e.fragRand = n, random
		}
	}}
}

// ShortReads makes each Read on this end return at most n bytes.
func ShortReads(n int) Fault { return fragment(fmt.Sprintf("ShortReads(%d)", n), true, n, false) }

// ShortWrites splits each Write on this end into pieces of at most n bytes,
// sent separately, so the peer's Reads see the fragments. (Write itself
// still writes everything or returns an error, as io.Writer requires.)
func ShortWrites(n int) Fault { return fragment(fmt.Sprintf("ShortWrites(%d)", n), false, n, false) }

// RandomShortReads makes each Read on this end return at most a size drawn
// from 1..max with the connection's seeded source.
func RandomShortReads(max int) Fault {
	return fragment(fmt.Sprintf("RandomShortReads(%d)", max), true, max, true)
}

// RandomShortWrites splits writes into pieces of sizes drawn from 1..max.
func RandomShortWrites(max int) Fault {
	return fragment(fmt.Sprintf("RandomShortWrites(%d)", max), false, max, true)
}

// ---- actions ----

type action struct {
	desc string
	do   func(c *Conn)
}

func (a action) String() string { return a.desc }

func (a action) on(c *Conn, inj *Injection) {
	inj.fired = true
	a.do(c)
}

func (a action) off(*Conn, *Injection) {}

// Reset resets the connection, as an RST from the network does: both ends'
// Reads and Writes then fail with ECONNRESET, and data in flight is lost.
// On a wrapped TCP connection it closes the socket with SO_LINGER 0, so the
// kernel sends a real RST to the peer.
func Reset() Fault {
	return action{"Reset()", func(c *Conn) {
		c.log.add(EventReset, "", -1)
		c.resetNow()
	}}
}

// Hangup makes this end hang up: it closes, as Conn.Close does; its calls
// then fail with net.ErrClosed, and its peer reads io.EOF. (The fault is not
// named Close, so that it cannot be taken for the method.)
func Hangup() Fault { return action{"Hangup()", func(c *Conn) { _ = c.Close() }} }

// HalfCloseWrite half-closes this end's writing side, as Conn.CloseWrite
// does: its peer reads io.EOF after the data (a FIN).
func HalfCloseWrite() Fault { return action{"HalfCloseWrite()", func(c *Conn) { _ = c.CloseWrite() }} }

// HalfCloseRead closes this end's reading side, as Conn.CloseRead does.
func HalfCloseRead() Fault { return action{"HalfCloseRead()", func(c *Conn) { _ = c.CloseRead() }} }
