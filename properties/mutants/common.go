package mutants

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	reference "github.com/stallproof/stallproof/server"
	"github.com/stallproof/stallproof/wire"
)

// This file is the plumbing every mutant shares and none of them gets wrong:
// the tally state, reading lines, dispatching requests, HELLO, the accept
// loop and shutdown. A mutant is a server whose hooks replace one part of it
// (see the fields under "hooks"); newServer sets every hook to the correct
// behaviour.

// server is one running mutant.
type server struct {
	opts  []string
	index map[string]int // option name → position in opts
	hello []byte

	mu     sync.Mutex // the tally lock: guards seq and counts
	seq    uint64     // seq of the last vote counted
	counts []uint64   // counts[i] is the number of votes for opts[i]

	cmu     sync.Mutex // guards clients; taken after mu
	clients map[*client]struct{}

	connMu   sync.Mutex            // guards conns and stopping; never held during I/O
	conns    map[net.Conn]struct{} // every open connection, closed on shutdown
	stopping bool

	done     chan struct{} // closed when the server stops
	stopOnce sync.Once
	wg       sync.WaitGroup // every goroutine Serve waits for

	// hooks: the part of the design a mutant replaces.
	newSink     func(c *client) sink     // how lines reach the client
	vote        func(c *client, opt int) // count, reply OK, push the new tally
	query       func(c *client)          // reply to TALLY
	readLoop    func(c *client) error    // read and dispatch requests until the client is done
	retryAccept func(err error) bool     // whether to retry after a temporary accept error
}

// client is one connection.
type client struct {
	conn net.Conn
	sink sink
}

// A sink delivers lines to one client, the way one design does it.
type sink interface {
	// reply sends one reply (HELLO, OK, ERR) after the earlier ones;
	// it may wait for room. It reports false once the client is gone.
	reply(line []byte) bool
	// room waits until answer can hand a reply off without blocking.
	room() bool
	// answer sends the reply to TALLY; it is called with the tally lock held.
	answer(seq uint64, line []byte)
	// push offers the tally after a vote; it is called with the tally lock
	// held (except where a mutant says otherwise).
	push(seq uint64, line []byte)
	// last sends the reply that ends the conversation (BYE, or ERR
	// line-too-long); the client is already unregistered, and no tally may
	// follow it.
	last(line []byte)
	// finish is called once the client sends nothing more: it sends what is
	// queued, closes the connection and returns when the sink's goroutines
	// have ended.
	finish()
}

func newServer(opts []string) *server {
	s := &server{
		opts:    opts,
		index:   make(map[string]int, len(opts)),
		hello:   wire.AppendHello(nil, opts),
		counts:  make([]uint64, len(opts)),
		clients: make(map[*client]struct{}),
		conns:   make(map[net.Conn]struct{}),
		done:    make(chan struct{}),
	}
	for i, o := range opts {
		s.index[o] = i
	}
	s.newSink = s.newOutbox
	s.vote = s.countAndPush
	s.query = s.answerTally
	s.readLoop = s.readLines
	s.retryAccept = func(error) bool { return true }
	return s
}

// serve runs the server on ln until ctx is done or the accept loop gives up,
// then closes the listener and every connection, and returns once every
// goroutine in s.wg has ended. It returns nil after ctx is done, otherwise
// the accept error that stopped it.
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { s.shutdown(ln) })
	defer stop()
	err := s.acceptLoop(ln)
	s.shutdown(ln)
	s.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *server) acceptLoop(ln net.Listener) error {
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.stopped() {
				return nil
			}
			if !isTemporary(err) || !s.retryAccept(err) {
				return err
			}
			// Back off 5 ms doubling to 1 s, like net/http, unless stopped.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-s.done:
			}
			continue
		}
		backoff = 0
		if !s.track(conn) {
			conn.Close()
			return nil
		}
		s.goroutine(func() { s.handle(conn) })
	}
}

// isTemporary is the reference server's decision, so that the mutants'
// accept loops differ from it only where a mutant says so.
func isTemporary(err error) bool { return reference.TemporaryAcceptError(err) }

// shutdown stops the server: it closes the listener and every connection,
// which unblocks any Read or Write, and closes s.done. It is idempotent.
func (s *server) shutdown(ln net.Listener) {
	s.stopOnce.Do(func() {
		ln.Close()
		s.connMu.Lock()
		s.stopping = true
		for conn := range s.conns {
			conn.Close()
		}
		s.connMu.Unlock()
		close(s.done)
	})
}

func (s *server) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// goroutine runs f in a goroutine that Serve waits for.
func (s *server) goroutine(f func()) { s.wg.Go(f) }

func (s *server) track(conn net.Conn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.stopping {
		return false
	}
	s.conns[conn] = struct{}{}
	return true
}

func (s *server) untrack(conn net.Conn) {
	s.connMu.Lock()
	delete(s.conns, conn)
	s.connMu.Unlock()
	conn.Close()
}

// handle runs one connection: HELLO, then requests until the client quits,
// hangs up or breaks the protocol; pushed tallies reach it meanwhile.
func (s *server) handle(conn net.Conn) {
	defer s.untrack(conn)
	c := &client{conn: conn}
	c.sink = s.newSink(c)
	if !c.sink.reply(s.hello) {
		c.sink.finish()
		return
	}
	// Registered and sent the current tally under the tally lock, as
	// protocol v1 wants it after HELLO: no push can fall between the two.
	s.mu.Lock()
	s.cmu.Lock()
	s.clients[c] = struct{}{}
	s.cmu.Unlock()
	c.sink.answer(s.snapshot())
	s.mu.Unlock()
	s.readLoop(c)
	// Finish before unregistering, so that the tallies of the client's own
	// last votes still reach it when it half-closes.
	c.sink.finish()
	s.unregister(c)
}

func (s *server) unregister(c *client) {
	s.cmu.Lock()
	delete(s.clients, c)
	s.cmu.Unlock()
}

// end sends the reply that ends the conversation. The client is
// unregistered first, so that no tally is pushed after it.
func (s *server) end(c *client, line []byte) {
	s.unregister(c)
	c.sink.last(line)
}

// clientList is a copy of the registered clients, for pushing outside cmu.
func (s *server) clientList() []*client {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	list := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		list = append(list, c)
	}
	return list
}

// errLineTooLong is returned by readLine for a line over wire.MaxLine.
var errLineTooLong = errors.New("line too long")

func newLineReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, wire.MaxLine) }

// readLine returns the next complete line, terminator included, aliasing
// r's buffer until the next call. An incomplete last line before EOF is
// dropped (io.EOF).
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, errLineTooLong
	case err != nil:
		return nil, io.EOF
	}
	return line, nil
}

// readLines is the correct read loop: every complete line is answered, in
// order, including those that arrived just before the client half-closed.
// It returns io.EOF when the input ends (or fails), nil after QUIT.
func (s *server) readLines(c *client) error {
	r := newLineReader(c.conn)
	for {
		line, err := readLine(r)
		if err != nil {
			s.readFailed(c, err)
			return err
		}
		if !s.dispatch(c, line) {
			return nil
		}
	}
}

// readFailed answers a line that was too long (framing is lost: the caller
// then closes); other errors end the connection silently.
func (s *server) readFailed(c *client, err error) {
	if errors.Is(err, errLineTooLong) {
		s.end(c, wire.AppendErr(nil, wire.CodeLineTooLong, "a line is at most 256 bytes"))
		// Read and drop the rest for a while, as the reference server
		// does: a close with unread data is a reset, which can destroy the
		// ERR before the client reads it.
		_ = c.conn.SetReadDeadline(time.Now().Add(lingerFor))
		_, _ = io.Copy(io.Discard, c.conn)
	}
}

// lingerFor bounds how long a connection ended by a line too long is read
// and dropped before it is closed.
const lingerFor = 2 * time.Second

// dispatch answers one request line and reports whether to keep reading.
func (s *server) dispatch(c *client, line []byte) bool {
	req, err := wire.ParseRequest(line)
	if err != nil {
		return c.sink.reply(wire.AppendErr(nil, wire.CodeBadRequest, "expected VOTE <option>, TALLY or QUIT"))
	}
	switch req.Kind {
	case wire.Vote:
		i, ok := s.index[string(req.Option)]
		if !ok {
			return c.sink.reply(wire.AppendErr(nil, wire.CodeUnknownOption, "no such option"))
		}
		s.vote(c, i)
	case wire.Tally:
		s.query(c)
	case wire.Quit:
		s.end(c, wire.AppendBye(nil))
		return false
	}
	return true
}

// countLocked counts one vote for option i and returns its seq. The caller
// holds s.mu.
func (s *server) countLocked(i int) uint64 {
	s.counts[i]++
	s.seq++
	return s.seq
}

// snapshot formats the tally. The caller holds s.mu (except the mutant
// whose bug is not to).
func (s *server) snapshot() (seq uint64, line []byte) {
	return s.seq, wire.AppendTally(nil, s.seq, s.opts, s.counts)
}

// pushLocked offers a tally to every client. The caller holds s.mu, so
// every client is offered the tallies in seq order.
func (s *server) pushLocked(seq uint64, line []byte) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for c := range s.clients {
		c.sink.push(seq, line)
	}
}

// countAndPush is the correct vote: count, snapshot and hand the snapshot
// off under the lock without blocking, then reply OK outside the lock.
func (s *server) countAndPush(c *client, opt int) {
	s.mu.Lock()
	seq := s.countLocked(opt)
	s.pushLocked(s.snapshot())
	s.mu.Unlock()
	c.sink.reply(wire.AppendOK(nil, seq))
}

// answerTally is the correct TALLY: wait for room outside the lock, then
// snapshot and hand the reply off under it, so it is ordered with pushes.
func (s *server) answerTally(c *client) {
	if !c.sink.room() {
		return
	}
	s.mu.Lock()
	c.sink.answer(s.snapshot())
	s.mu.Unlock()
}
