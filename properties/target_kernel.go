package properties

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/internal/sockdiag"
	"github.com/stallproof/stallproof/properties/report"
)

// kernelView is what the suite sees of a server it reaches over real TCP
// on this machine (RunAddr, check, RunExec): on loopback both ends of every
// connection are in one kernel, which can say how much the server's end
// has queued and whether the server's next Write would block (sock_diag,
// package internal/sockdiag). Without such a view, a server in its own
// process has a send buffer the kernel grows to 4 MiB, and the suite can
// only guess how much to push through a stalled client before the server
// blocks: it pushes megabytes once per property, and says so.
type kernelView struct {
	diag *sockdiag.Conn // nil: no view of the server's sockets (why)
	why  string

	// shrunk: the server's listening socket's send buffer was set to the
	// suite's buffer size, so every connection it accepts blocks its
	// writer after kilobytes, as on the in-memory network.
	shrunk bool
	notes  []string // what the suite did to the server's sockets, or could not
	pid    int      // the server's process, once found
}

// openKernelView opens the view for tg, and, for a server in another
// process, shrinks its listening socket's send buffer to bufSize. open
// opens the sock_diag socket in the target's network namespace (nil: this
// one).
func openKernelView(tg *target, bufSize int, open func() (*sockdiag.Conn, error)) *kernelView {
	kv := &kernelView{}
	if open == nil {
		open = sockdiag.Open
	}
	d, err := open()
	if err != nil {
		kv.why = fmt.Sprintf("the kernel's view of the server's sockets is not available (%v)", err)
		kv.notes = append(kv.notes, kv.why+": how much to push through a stalled client is a guess")
		return kv
	}
	kv.diag = d
	if tg.smallBuffers {
		return kv // the target's socket buffers are small already
	}
	inodes, err := harness.ListeningInodes(tg.addr)
	if err == nil && len(inodes) == 0 {
		err = errors.New("no listening socket found")
	}
	for _, ino := range inodes {
		var pid int
		if pid, err = sockdiag.ShrinkSendBuffer(sockdiag.Socket{Inode: ino}, bufSize, kv.pid); err != nil {
			break
		}
		kv.pid = pid
	}
	if err != nil {
		kv.notes = append(kv.notes, fmt.Sprintf("the server's send buffers keep the kernel's size (up to 4 MiB): setting them failed: %v", err))
		return kv
	}
	kv.shrunk = true
	kv.notes = append(kv.notes, fmt.Sprintf("the suite set the send buffer of the server's listening socket to %d bytes (SO_SNDBUF, through pidfd_getfd), so a stalled client blocks the server's writes after kilobytes", bufSize))
	return kv
}

func (kv *kernelView) close() {
	if kv != nil && kv.diag != nil {
		_ = kv.diag.Close()
	}
}

// kernel returns the kernel's view of the server's sockets: the target's,
// or that of a Run over loopback TCP; nil without one.
func (e *env) kernel() *kernelView {
	if kv := e.target.kernel(); kv != nil {
		return kv
	}
	return e.cfg.tcpView
}

// exact reports whether a stalled client blocks the server after
// kilobytes, as in memory: its buffers are small, and the suite can see
// when its writes block.
func (kv *kernelView) exact() bool { return kv != nil && kv.diag != nil }

// serverSocket returns the kernel's view of the server's end of client c's
// first connection, when c is spliced to a real socket and a view is
// open; err is the lookup's (sockdiag.ErrNotFound: the server closed it).
func (e *env) serverSocket(c *client) (s sockdiag.Socket, ok bool, err error) {
	kv, local, remote, ok := e.serverPair(c)
	if !ok {
		return s, false, nil
	}
	s, err = kv.diag.Lookup(local, remote)
	return s, err == nil, err
}

// serverPair returns the open kernel view and the address pair of the
// server's end of client c's first connection, when c is spliced to a
// real socket; ok is false otherwise.
func (e *env) serverPair(c *client) (kv *kernelView, local, remote netip.AddrPort, ok bool) {
	kv = e.kernel()
	if kv == nil || kv.diag == nil {
		return nil, local, remote, false
	}
	far := e.farEnd(c)
	if far == nil {
		return nil, local, remote, false
	}
	local, remote = sockdiag.ServerSide(far)
	return kv, local, remote, local.IsValid() && remote.IsValid()
}

// serverBlocked reports whether the server's writes to c are blocked: on
// the in-memory network, the server's end logged a Write that found the
// buffer full; over TCP, the kernel shows it. The first time, it records a
// "server-blocked" event in the trace and on c's timeline.
//
// In the kernel, blocked means stuck, not a passing moment: the socket
// must be seen blocked with not one more byte acknowledged by the client
// for sockdiag.BlockedFor ([sockdiag.StuckWriter]).
func (e *env) serverBlocked(c *client) bool {
	if c.serverBlockedAt.Load() != 0 {
		return true
	}
	var text string
	if e.inMemory(c) {
		if !blocked(c.conn.Peer()) {
			return false
		}
		text = "in memory: the server's end's buffer is full"
	} else {
		s, ok, _ := e.serverSocket(c)
		c.mu.Lock()
		var stuck bool
		if ok {
			stuck = c.blocked.Saw(s, time.Now())
		} else {
			c.blocked.Lost()
		}
		c.mu.Unlock()
		if !stuck {
			return false
		}
		text = fmt.Sprintf("%d bytes queued, sndbuf %d, window %d", s.WriteQueued, s.SendBuffer, s.PeerWindow)
	}
	if c.serverBlockedAt.CompareAndSwap(0, int64(time.Since(e.start))) {
		e.logf("server-blocked: the server's writes to %v block: %s", c, text)
		c.mark(serverBlockedKind, []byte(text))
	}
	return true
}

// writesItself reports whether the process holding the server's end of
// client c's connection writes to it on its own account: it holds no
// socket that could lead to another process (sockdiag.Onward) but the
// suite's own connections, so no proxy or relay stands between the
// suite and the server, with buffers of its own to fill. why says what
// was seen, for the log.
func (e *env) writesItself(c *client) (ok bool, why string) {
	s, found, err := e.serverSocket(c)
	if !found {
		return false, fmt.Sprintf("the server's end of %v was not found (%v)", c, err)
	}
	pid, onward, err := sockdiag.Onward(s, e.target.kernel().pid, ownConn)
	switch {
	case err != nil:
		return false, fmt.Sprintf("what else the process holding the server's end of %v holds is not known (%v)", c, err)
	case onward != "":
		return false, fmt.Sprintf("process %d, which holds the server's end of %v, also holds %s", pid, c, onward)
	}
	return true, fmt.Sprintf("process %d, which holds the server's end of %v, holds no socket but its listeners, the connections they accepted and the suite's own", pid, c)
}

// inMemory reports whether client c's connection is the server's own, on
// the in-memory network (Run): its peer end is the server's. Through a
// splice (RunAddr, RunDial, RunExec, check) the peer end is the splice's,
// and only the kernel can say what the server's end does.
func (e *env) inMemory(c *client) bool {
	return e.target == nil && c.conn != nil && c.conn.Peer() != nil
}

// serverLetGo reports whether the server's end of c's connection is
// gone or closing (the server evicted c), as the kernel shows it: no
// more is to be pushed through it.
func (e *env) serverLetGo(c *client) bool {
	if e.inMemory(c) {
		return closedByServer(c.conn)
	}
	s, ok, err := e.serverSocket(c)
	return errors.Is(err, sockdiag.ErrNotFound) || ok && s.State != sockdiag.Established
}

// awaitServerBlocked reports whether the server's writes to c are
// blocked, waiting, without sending anything, while the kernel shows them
// blocked for the moment, until it shows them blocked for
// sockdiag.BlockedFor (or no longer blocked), within twice that.
func (e *env) awaitServerBlocked(c *client) bool {
	deadline := time.Now().Add(2 * sockdiag.BlockedFor)
	for !e.serverBlocked(c) {
		if s, ok, _ := e.serverSocket(c); !ok || !s.WriteBlocked() || time.Now().After(deadline) {
			return false
		}
		e.waitALittle()
	}
	return true
}

// serverBlockedKind is the kind of the event that says the server's writes
// to a client blocked, in reports and on the timeline.
const serverBlockedKind = report.EventServerBlocked

// farEnd returns the real connection client c's first connection is
// spliced to, or, in a Run over loopback TCP, that connection itself; nil
// if there is none.
func (e *env) farEnd(c *client) net.Conn {
	conns := c.connections()
	if len(conns) == 0 {
		return nil
	}
	if e.target == nil {
		if conns[0].Peer() != nil {
			return nil // in memory
		}
		return conns[0]
	}
	e.splices.mu.Lock()
	defer e.splices.mu.Unlock()
	return e.splices.far[conns[0]]
}
