package server

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// ErrServerClosed is returned by Serve once Shutdown or Close was called,
// or when Serve has already run.
var ErrServerClosed = errors.New("server: closed")

// Accept loop back-off on temporary errors (EMFILE, ENFILE, ...).
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = 1 * time.Second
)

// Refusing a client over MaxConns: at most this many are told "ERR busy"
// at once (the rest are closed without a word), each within busyTimeout.
const (
	maxBusyWriters = 64
	busyTimeout    = 1 * time.Second
)

// Server is the reference voting server. Create it with New; run it with
// Serve; stop it with Shutdown or Close. Its methods are safe for
// concurrent use. A Server serves once: after Serve returns, it is closed.
type Server struct {
	set   settings
	index map[string]uint8 // option name -> index in set.options
	hello []byte           // "HELLO a,b,c\n"
	tally *tally
	stats counters

	// Broadcast: votes wake the broadcaster without blocking.
	wake        chan struct{} // capacity 1
	wakePending atomic.Bool

	// Registry of connected clients. Held for appends, removals and
	// non-blocking mailbox offers only.
	regMu          sync.RWMutex
	conns          []*conn
	refusing       map[net.Conn]struct{} // clients being told "ERR busy"
	registryClosed bool                  // shutdown began: no new clients; guarded by regMu
	idle           chan struct{}         // closed when registryClosed and no client is left

	// Lifecycle, in order: Serve starts (served); shutdown begins (quit
	// closed, quitting set, both at once and once); it may turn abrupt
	// (abort closed: every client closed at once); Serve returns
	// (serveDone closed).
	mu            sync.Mutex
	served        bool         // Serve was called; guarded by mu
	ln            net.Listener // guarded by mu
	quit          chan struct{}
	quitting      atomic.Bool // quit is closed; read on hot paths without a select
	abort         chan struct{}
	abortOnce     sync.Once
	serveDone     chan struct{}
	drainDeadline atomic.Int64 // unix nanoseconds; set when shutdown begins

	busyWriters atomic.Int32
	wg          sync.WaitGroup // every goroutine Serve started

	testNoBroadcast bool // tests only: no broadcasts, so a transcript is deterministic
}

// New returns a server for cfg. It fails only if cfg.Options is not a
// valid option list. It starts no goroutine: Serve does.
func New(cfg Config) (*Server, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	s := &Server{
		set:       set,
		index:     make(map[string]uint8, len(set.options)),
		hello:     wire.AppendHello(nil, set.options),
		tally:     newTally(len(set.options)),
		wake:      make(chan struct{}, 1),
		refusing:  make(map[net.Conn]struct{}),
		idle:      make(chan struct{}),
		quit:      make(chan struct{}),
		abort:     make(chan struct{}),
		serveDone: make(chan struct{}),
	}
	for i, o := range set.options {
		s.index[o] = uint8(i)
	}
	return s, nil
}

// Options returns the options the server offers, in HELLO order.
func (s *Server) Options() []string { return append([]string(nil), s.set.options...) }

// Serve accepts clients on ln and serves them until ctx is done, Shutdown
// or Close is called, or ln fails with an error that is not temporary.
// It then stops accepting, lets every client drain (queued replies and the
// latest tally, within Config.DrainTimeout), closes them and ln, and
// returns only after every goroutine it started has ended.
//
// Serve returns nil when stopped by ctx, Shutdown or Close, the listener's
// error when it failed, and ErrServerClosed if the server was already
// closed or served.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.quitting.Load() || s.served {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.served = true
	s.ln = ln
	s.mu.Unlock()
	defer close(s.serveDone)

	ctxDone := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(ctxDone)
		s.beginShutdown()
	})
	defer func() {
		if !stopWatch() {
			<-ctxDone
		}
	}()

	bstop := make(chan struct{})
	s.wg.Go(func() { s.broadcastLoop(bstop) })

	err := s.acceptLoop(ln)
	s.beginShutdown()
	s.waitClients()
	close(bstop)
	s.wg.Wait()
	return err
}

// acceptLoop accepts until shutdown (nil) or a permanent error (returned).
func (s *Server) acceptLoop(ln net.Listener) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.quitting.Load() {
				return nil
			}
			s.stats.acceptErrors.Add(1)
			if !TemporaryAcceptError(err) {
				s.set.log.Error("accept failed; stopping", "err", err)
				return err
			}
			delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
			s.set.log.Warn("accept failed; retrying", "err", err, "delay", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.quit:
				t.Stop()
				return nil
			}
			continue
		}
		delay = 0
		s.admit(nc)
	}
}

// TemporaryAcceptError reports whether an error from Accept is worth
// retrying after a back-off: the listener ran out of file descriptors or
// memory, or a connection was aborted before it was accepted. Every accept
// loop of this project (the reference server's, the mutants') decides with
// it.
func TemporaryAcceptError(err error) bool {
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// admit registers a new client and starts serving it, or refuses it.
func (s *Server) admit(nc net.Conn) {
	c := newConn(s, nc)
	s.regMu.Lock()
	if s.registryClosed {
		s.regMu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.set.maxConns {
		s.regMu.Unlock()
		s.refuse(nc)
		return
	}
	c.idx = len(s.conns)
	s.conns = append(s.conns, c)
	s.stats.conns.Add(1)
	s.regMu.Unlock()
	s.stats.accepted.Add(1)
	c.start()
}

// refuse tells a client over the limit "ERR busy" and closes it, in a
// goroutine of its own so that the accept loop never waits for a client.
func (s *Server) refuse(nc net.Conn) {
	s.stats.busy.Add(1)
	s.set.log.Info("client refused", "reason", "busy", "remote", nc.RemoteAddr())
	if s.busyWriters.Add(1) > maxBusyWriters {
		s.busyWriters.Add(-1)
		nc.Close()
		return
	}
	s.regMu.Lock()
	s.refusing[nc] = struct{}{}
	s.regMu.Unlock()
	s.wg.Go(func() {
		defer func() {
			s.regMu.Lock()
			delete(s.refusing, nc)
			s.regMu.Unlock()
			nc.Close()
			s.busyWriters.Add(-1)
		}()
		nc.SetDeadline(time.Now().Add(busyTimeout))
		if _, err := nc.Write(errBusy); err != nil {
			return
		}
		// Read what the client sent until it closes, so that closing does
		// not reset the connection before it reads ERR busy.
		closeWrite(nc)
		var buf [256]byte
		for {
			if _, err := nc.Read(buf[:]); err != nil {
				return
			}
		}
	})
}

// unregister removes a client that has ended.
func (s *Server) unregister(c *conn) {
	s.regMu.Lock()
	last := len(s.conns) - 1
	moved := s.conns[last]
	s.conns[c.idx] = moved
	moved.idx = c.idx
	s.conns[last] = nil
	s.conns = s.conns[:last]
	s.stats.conns.Add(-1)
	if s.registryClosed && len(s.conns) == 0 {
		close(s.idle)
	}
	s.regMu.Unlock()
}

// Shutdown stops the server gracefully: it stops accepting, answers new
// requests with "ERR shutting-down", sends every client its queued replies
// and the latest tally (within Config.DrainTimeout), and closes them. It
// returns when Serve has returned, or, if ctx ends first, closes every
// client at once, waits for Serve all the same, and returns ctx.Err().
// Shutdown before Serve just closes the server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginShutdown()
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	if !served {
		return nil
	}
	select {
	case <-s.serveDone:
		return nil
	case <-ctx.Done():
	}
	s.abortClients()
	<-s.serveDone
	return ctx.Err()
}

// Close closes the listener and every client at once, and waits for
// Serve to return. It is idempotent.
func (s *Server) Close() error {
	s.beginShutdown()
	s.abortClients()
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	if served {
		<-s.serveDone
	}
	return nil
}

func (s *Server) shuttingDown() bool { return s.quitting.Load() }

// beginShutdown starts a graceful shutdown without waiting for it. It is
// idempotent and never blocks.
func (s *Server) beginShutdown() {
	s.mu.Lock()
	if s.quitting.Load() {
		s.mu.Unlock()
		return
	}
	ln := s.ln
	s.drainDeadline.Store(time.Now().Add(s.set.drainTimeout).UnixNano())
	s.quitting.Store(true)
	close(s.quit)
	s.mu.Unlock()

	if ln != nil {
		ln.Close()
	}
	s.regMu.Lock()
	s.registryClosed = true
	conns := append([]*conn(nil), s.conns...)
	if len(conns) == 0 {
		close(s.idle)
	}
	s.regMu.Unlock()
	d := time.Unix(0, s.drainDeadline.Load())
	for _, c := range conns {
		c.drain()
		c.nc.SetWriteDeadline(d) // cut short a write already blocked
	}
}

// abortClients makes the shutdown abrupt: every client is closed at once.
func (s *Server) abortClients() { s.abortOnce.Do(func() { close(s.abort) }) }

// waitClients waits until every client has ended, closing them all at
// once when the drain deadline passes or Close is called.
func (s *Server) waitClients() {
	t := time.NewTimer(time.Until(time.Unix(0, s.drainDeadline.Load())))
	defer t.Stop()
	select {
	case <-s.idle:
		return
	case <-t.C:
	case <-s.abort:
	}
	s.abortClients()
	s.regMu.RLock()
	conns := append([]*conn(nil), s.conns...)
	refusing := make([]net.Conn, 0, len(s.refusing))
	for nc := range s.refusing {
		refusing = append(refusing, nc)
	}
	s.regMu.RUnlock()
	for _, c := range conns {
		c.close(reasonNone)
	}
	for _, nc := range refusing {
		nc.Close()
	}
	// Closing a connection ends its goroutines at once, unless its
	// net.Conn does not unblock Read and Write on Close: say so.
	tick := time.NewTicker(stuckReport)
	defer tick.Stop()
	for {
		select {
		case <-s.idle:
			return
		case <-tick.C:
			s.regMu.RLock()
			n := len(s.conns)
			s.regMu.RUnlock()
			s.set.log.Error("shutdown: clients still running after their connections were closed", "clients", n)
		}
	}
}

// stuckReport is how often a shutdown that waits for closed clients says so.
const stuckReport = 5 * time.Second

// writeDeadline is the deadline for a write starting now.
func (s *Server) writeDeadline() time.Time {
	d := time.Now().Add(s.set.writeTimeout)
	if s.quitting.Load() {
		if dd := time.Unix(0, s.drainDeadline.Load()); dd.Before(d) {
			d = dd
		}
	}
	return d
}
