package faultnet

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// Splice connects a and b: what a reads is written to b and what b reads is
// written to a, by two goroutines, until both directions have ended. It
// returns at once. Spliced.Wait waits for the end; Spliced.Close ends it.
//
// Splice behaves like the network between two TCP peers, so that faults on
// either connection reach the program behind the other:
//
//   - Back-pressure: a direction reads the next chunk (at most 32 KiB) only
//     once the previous one is written, so when b's peer stops reading and
//     b's Write blocks, the splice stops reading a and a's peer meets a zero
//     window: its own Writes block.
//   - Half-close: io.EOF from a becomes b.CloseWrite() (a FIN), and the
//     other direction keeps flowing. A connection without CloseWrite is
//     closed instead.
//   - Reset: ECONNRESET reading a resets b (SetLinger(0), then Close: the
//     kernel sends an RST), and a Write to b that fails with ECONNRESET or
//     EPIPE resets a, whose peer's data can no longer be delivered. A Reset
//     fault injected into either end, if it is a *Conn, is thus a reset on
//     both sides.
//   - Eviction: a direction blocked writing to an end whose peer stopped
//     reading still watches its source, if that is a TCP socket (or a
//     *Conn wrapping one) on Linux, without reading it. When the server
//     resets the connection, the blocked end is reset at once. When it
//     closes it (its socket on this machine is closed, though its data and
//     FIN still wait behind the zero window), the blocked end, if a *Conn,
//     logs EventFarClose, and nothing else changes: the data and then the
//     EOF reach the stalled peer, in order, if it resumes reading, as they
//     would reach a real TCP client. A server in another network namespace,
//     or on another platform, is not watched.
//   - End: once both directions have ended, or either has failed, both
//     connections are closed and both goroutines return.
//
// One thing differs, for speed: on Linux, a direction reading a TCP socket
// acknowledges what it reads at once (TCP_QUICKACK), where a client's
// kernel would delay the acknowledgement by up to 40 ms. A server that
// leaves Nagle's algorithm on holds its last small write until then, so
// each burst of small pushes would cost it 40 ms: 44 ms a round against
// 0.05 ms in BenchmarkSpliceNagleServer.
//
// Either end may be an in-memory *Conn, a wrapped *Conn, or any net.Conn.
// To put a test's faultnet client in front of a real server:
//
//	client, end := faultnet.Pipe()      // the test uses client
//	target, err := net.Dial("tcp", addr) // a real connection
//	...
//	sp := faultnet.Splice(end, faultnet.Wrap(target, faultnet.SocketBufferSize(32<<10)))
//	defer sp.Close()
//
// (Socket buffers of 8 KiB or less starve bulk transfers on loopback; see
// DefaultProxySocketBufferSize. The server's own send buffer, up to 4 MiB on
// Linux, is out of the splice's reach: a stall test must push more.)
//
// Spliced.Close stops a splice at any time: it closes both ends.
//
// While a direction whose source is a TCP socket (or a *Conn wrapping one)
// waits for data, it holds no buffer, so an idle splice costs little more
// than its two goroutines; it reads such a socket with one read(2) per
// chunk.
func Splice(a, b net.Conn) *Spliced { return startSplice(a, b, nil) }

// startSplice starts a splice; onDone, if not nil, runs once it has ended,
// on the goroutine of the direction that ended last, so that a caller need
// not keep a goroutine waiting.
func startSplice(a, b net.Conn, onDone func(*Spliced)) *Spliced {
	s := &Spliced{done: make(chan struct{}), onDone: onDone}
	s.ends[0].c, s.ends[1].c = a, b
	s.pending.Store(2)
	go s.pump(0, 1)
	go s.pump(1, 0)
	return s
}

// Spliced is a running Splice.
type Spliced struct {
	ends    [2]spliceEnd
	pending atomic.Int32 // directions still running
	done    chan struct{}
	onDone  func(*Spliced)

	mu    sync.Mutex
	err   error // the first error worth reporting
	eofs  int   // directions that ended with io.EOF
	local bool  // Close was called
}

// finish marks one direction as ended.
func (s *Spliced) finish() {
	if s.pending.Add(-1) == 0 {
		close(s.done)
		if s.onDone != nil {
			s.onDone(s)
		}
	}
}

// Wait blocks until both directions have ended and both connections are
// closed. It returns the first error that ended a direction, other than
// io.EOF and net.ErrClosed: a reset (ECONNRESET, EPIPE), say. After Close
// it returns nil.
func (s *Spliced) Wait() error {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local {
		return nil
	}
	return s.err
}

// Done returns a channel closed once the splice has ended.
func (s *Spliced) Done() <-chan struct{} { return s.done }

// Close closes both connections (each peer reads what was sent, then
// io.EOF, or ECONNRESET if it had data unread by the splice) and waits for
// the splice's goroutines. It returns nil; calling it again does nothing.
func (s *Spliced) Close() error {
	s.mu.Lock()
	s.local = true
	s.mu.Unlock()
	s.close(0, false)
	s.close(1, false)
	<-s.done
	return nil
}

type spliceEnd struct {
	c    net.Conn
	once sync.Once
}

// close closes end i once: with reset, as an RST (SetLinger(0) first).
func (s *Spliced) close(i int, reset bool) {
	e := &s.ends[i]
	e.once.Do(func() {
		if reset {
			if l, ok := e.c.(interface{ SetLinger(int) error }); ok {
				_ = l.SetLinger(0)
			}
		}
		_ = e.c.Close()
	})
}

func (s *Spliced) record(err error) {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// isReset reports whether err says the peer reset the connection or can no
// longer receive.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// pump copies end from to end to until either fails or from reaches EOF.
func (s *Spliced) pump(from, to int) {
	defer s.finish()
	src, dst := s.ends[from].c, s.ends[to].c
	r := newSpliceReader(src)
	defer r.release()
	w := s.newWatch(from, to, r)
	if w != nil {
		defer w.disarm()
	}
	for {
		p, rerr := r.read()
		if len(p) > 0 {
			if w != nil {
				w.arm()
			}
			_, werr := dst.Write(p)
			if w != nil {
				w.disarm()
			}
			if werr != nil {
				s.record(werr)
				// As TCP would, the sender whose data cannot be delivered is
				// reset; a local Close of dst just ends the splice.
				s.close(from, isReset(werr))
				s.close(to, false)
				return
			}
		}
		switch {
		case rerr == nil:
			continue
		case errors.Is(rerr, io.EOF):
			s.halfClose(to)
			s.mu.Lock()
			s.eofs++
			both := s.eofs == 2
			s.mu.Unlock()
			if both {
				s.close(from, false)
				s.close(to, false)
			}
			return
		case errors.Is(rerr, syscall.ECONNRESET):
			s.record(rerr)
			s.close(to, true)
			s.close(from, false)
			return
		default:
			s.record(rerr)
			s.close(to, false)
			s.close(from, false)
			return
		}
	}
}

// halfClose forwards a FIN to end i, or closes it if it cannot half-close.
func (s *Spliced) halfClose(i int) {
	if cw, ok := s.ends[i].c.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err == nil || errors.Is(err, net.ErrClosed) {
			return
		}
	}
	s.close(i, false)
}
