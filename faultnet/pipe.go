package faultnet

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ports hands out the fake port numbers of in-memory addresses.
var ports atomic.Uint32

func nextAddr() *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 20000 + int(ports.Add(1)%40000)}
}

var pipeCount atomic.Uint64

// Pipe returns the two ends of an in-memory connection. Unlike net.Pipe,
// each direction is buffered like TCP (BufferSize, default 64 KiB), so a
// Write returns once its bytes are buffered and blocks only when the reader
// has fallen a whole buffer behind; either end can half-close; and errors
// look like a TCP socket's. The ends have 127.0.0.1 addresses.
func Pipe(opts ...Option) (client, server *Conn) {
	cfg := newConfig(opts)
	n := pipeCount.Add(1)
	name := cfg.name
	if name == "" {
		name = fmt.Sprintf("pipe%d", n)
	}
	// The stream numbers do not depend on how many pipes the process made
	// before, so the same Seed replays the same draws in any test order.
	client, server = newPair(&cfg, name, 0, nextAddr(), nextAddr())
	for _, f := range cfg.faults {
		client.Inject(f)
	}
	return client, server
}

// newPair connects two in-memory ends. The client's stream index is 2n, the
// server's 2n+1, so each has its own seeded randomness.
func newPair(cfg *config, name string, n uint64, caddr, saddr net.Addr) (client, server *Conn) {
	up, down := newStream(cfg.bufSize), newStream(cfg.bufSize)
	client, server = &Conn{}, &Conn{}
	cm := &memEnd{c: client, in: down, out: up, other: server}
	sm := &memEnd{c: server, in: up, out: down, other: client}
	cm.linger.Store(-1)
	sm.linger.Store(-1)
	client.init(name+"/client", caddr, saddr, cm, cfg, 2*n)
	server.init(name+"/server", saddr, caddr, sm, cfg, 2*n+1)
	return client, server
}

// memEnd is the in-memory transport: one end of a pair of streams, what it
// reads (in) and what it writes (out), which the other end (other) sees
// the other way round. A Conn's reading side shares the lock of in with
// the other end's writing side, so a fault on either applies to the same
// bytes.
type memEnd struct {
	c       *Conn
	in, out *stream
	other   *Conn
	linger  atomic.Int32 // -1: none; 0: Close resets
}

var _ transport = (*memEnd)(nil)

func (m *memEnd) locks() (*sync.Mutex, *sync.Cond, *sync.Mutex, *sync.Cond) {
	return &m.in.mu, &m.in.cond, &m.out.mu, &m.out.cond
}

func (m *memEnd) peer() *Conn      { return m.other }
func (m *memEnd) unwrap() net.Conn { return nil }

func (m *memEnd) read(p []byte) (int, error) {
	c, s, st := m.c, &m.c.rd, m.in
	s.mu.Lock()
	for {
		switch {
		case c.closed.Load():
			s.mu.Unlock()
			return 0, c.readErr(net.ErrClosed)
		case st.rst:
			s.mu.Unlock()
			return 0, c.readErr(errReadReset)
		case st.rdClosed:
			s.mu.Unlock()
			return 0, io.EOF
		case s.expired():
			s.mu.Unlock()
			return 0, c.readErr(os.ErrDeadlineExceeded)
		case len(p) == 0:
			s.mu.Unlock()
			return 0, nil
		}
		if hold, until := s.gate(); hold {
			s.wait(until)
			continue
		}
		var avail int
		var next time.Time
		if len(st.marks) == 0 {
			avail = st.len()
		} else {
			avail, next = st.readable(time.Now())
		}
		if avail == 0 {
			if st.eof && st.len() == 0 {
				s.mu.Unlock()
				return 0, io.EOF
			}
			lend := next.IsZero() && st.hand == nil && !s.slow.Load()
			if lend {
				st.hand = p
			}
			s.wait(next)
			if lend {
				n := st.handN
				st.hand, st.handN = nil, 0
				if n > 0 {
					due := s.moved(n)
					s.mu.Unlock()
					if due {
						s.fireDue()
					}
					return n, nil
				}
			}
			continue
		}
		n := st.take(p[:s.chunk(min(len(p), avail))])
		due := s.moved(n)
		st.cond.Broadcast() // room for the writer
		s.mu.Unlock()
		if due {
			s.fireDue()
		}
		return n, nil
	}
}

func (m *memEnd) write(p []byte) (int, error) {
	c, s, st := m.c, &m.c.wr, m.out
	n := 0
	s.mu.Lock()
	for {
		if n > 0 && len(p) == 0 { // all written: no later event turns it into an error
			s.mu.Unlock()
			return n, nil
		}
		switch {
		case c.closed.Load():
			s.mu.Unlock()
			return n, c.writeErr(net.ErrClosed)
		case st.rst:
			s.mu.Unlock()
			return n, c.writeErr(errWriteReset)
		case st.eof, st.rdClosed:
			s.mu.Unlock()
			return n, c.writeErr(errWritePipe)
		case s.expired():
			if len(p) > 0 && st.space() == 0 && !s.full {
				// The deadline passed while the buffer filled: this
				// Write stops on a full buffer all the same.
				s.full = true
				c.log.add(EventBufferFull, "", st.wrOff)
			}
			s.mu.Unlock()
			return n, c.writeErr(os.ErrDeadlineExceeded)
		case len(p) == 0:
			s.mu.Unlock()
			return n, nil
		}
		if hold, until := s.gate(); hold {
			s.wait(until)
			continue
		}
		if st.handN < len(st.hand) && st.len() == 0 && len(st.marks) == 0 && !s.slow.Load() && !m.other.rd.slow.Load() {
			k := copy(st.hand[st.handN:], p)
			st.handN += k
			st.wrOff += int64(k)
			st.rdOff += int64(k)
			p, n = p[k:], n+k
			s.moved(k)
			st.cond.Broadcast() // the reader has its data
			continue
		}
		space := st.space()
		if space == 0 {
			if !s.full {
				s.full = true
				c.log.add(EventBufferFull, "", st.wrOff)
			}
			s.wait(time.Time{})
			continue
		}
		s.full = false
		k := s.chunk(min(len(p), space))
		st.push(p[:k], s.readyAt(), s.fx.frag > 0)
		p, n = p[k:], n+k
		st.cond.Broadcast() // data for the reader
		if s.moved(k) {
			s.mu.Unlock()
			s.fireDue()
			s.mu.Lock()
		}
	}
}

func (m *memEnd) setReadDeadline(time.Time) error  { return nil }
func (m *memEnd) setWriteDeadline(time.Time) error { return nil }

func (m *memEnd) close() error {
	in, out := m.in, m.out
	in.mu.Lock()
	unread := in.len() > 0
	in.rdClosed = true
	in.drop()
	in.cond.Broadcast()
	in.mu.Unlock()
	out.mu.Lock()
	if unread || m.linger.Load() == 0 {
		out.rst = true
		out.drop()
	} else {
		out.eof = true
	}
	out.cond.Broadcast()
	out.mu.Unlock()
	return nil
}

func (m *memEnd) closeWrite() error {
	m.out.update(func(st *stream) { st.eof = true })
	return nil
}

func (m *memEnd) closeRead() error {
	m.in.update(func(st *stream) { st.rdClosed = true; st.drop() })
	return nil
}

func (m *memEnd) reset() {
	for _, st := range []*stream{m.in, m.out} {
		st.update(func(st *stream) { st.rst = true; st.drop() })
	}
	m.other.log.add(EventReset, "by peer", -1)
}

func (m *memEnd) setLinger(sec int) error {
	m.linger.Store(int32(sec))
	return nil
}

func (m *memEnd) setReadBuffer(n int) error {
	m.in.update(func(st *stream) { st.rcv = max(n, 0) })
	return nil
}

func (m *memEnd) setWriteBuffer(n int) error {
	m.out.update(func(st *stream) { st.snd = max(n, 0) })
	return nil
}

func (m *memEnd) unsent() int64 { return int64(m.out.len()) }
func (m *memEnd) unread() int64 { return int64(m.in.len()) }

// memBacklog is the in-memory listener's transport: the accept queue of
// connections dialed and not yet accepted, guarded by the Listener's mu.
type memBacklog struct {
	queue []*Conn // server ends
}

func (b *memBacklog) accept(l *Listener) (*Conn, error) {
	for {
		ok, err := l.admit()
		if err != nil {
			l.mu.Unlock()
			return nil, err
		}
		if ok && len(b.queue) > 0 {
			c := b.queue[0]
			b.queue = b.queue[1:]
			l.cond.Broadcast() // room in the backlog
			l.mu.Unlock()
			return c, nil
		}
		l.cond.Wait()
	}
}

func (b *memBacklog) dial(ctx context.Context, l *Listener) (*Conn, error) {
	l.mu.Lock()
	n := l.nextDial()
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	for {
		switch {
		case l.closed:
			l.mu.Unlock()
			return nil, opError("dial", nil, l.addr, errRefused)
		case ctx.Err() != nil:
			l.mu.Unlock()
			return nil, opError("dial", nil, l.addr, ctx.Err())
		case len(b.queue) >= l.cfg.backlog:
			if l.cfg.refuseFull {
				l.mu.Unlock()
				return nil, opError("dial", nil, l.addr, errRefused)
			}
			l.cond.Wait()
			continue
		}
		break
	}
	client, server := newPair(&l.cfg, fmt.Sprintf("%s#%d", l.name(), n), n, nextAddr(), l.addr)
	b.queue = append(b.queue, server)
	l.cond.Broadcast()
	l.mu.Unlock()
	return client, nil
}

// close resets the connections dialed and not yet accepted.
func (b *memBacklog) close(l *Listener) error {
	l.mu.Lock()
	queue := b.queue
	b.queue = nil
	l.mu.Unlock()
	for _, c := range queue {
		c.resetNow()
	}
	return nil
}
