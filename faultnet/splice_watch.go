package faultnet

import (
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// A direction of a splice blocked writing to its destination (a client
// that stopped reading) does not read its source, so it would not notice
// the source's peer, the server, closing or resetting the connection. A
// closeWatch notices it: once a write has been blocked for watchAfter, it
// looks at the source socket every watchEvery, without reading from it,
// until the write returns.
//
//   - A reset (the socket has an error pending): the destination is reset
//     at once and the splice ends, as TCP drops data in flight on a reset.
//   - A close: the server's socket, on this machine, is closed (orphaned
//     or gone: Linux's /proc/net/tcp) though its data and FIN still wait,
//     behind a zero window, for the stalled client. Nothing moves: the data
//     and then the EOF still reach the client if it resumes, as they would
//     reach a real one. The destination, if a *Conn, logs EventFarClose, so
//     a test can tell that the server evicted its stalled client.
type closeWatch struct {
	s        *Spliced
	from, to int
	raw      syscall.RawConn
	far      farSocket // the server's socket, as the kernel lists it
	timer    *time.Timer

	farClosed bool // the server's close was seen and logged: look for a reset only

	mu      sync.Mutex
	writing bool
	ended   bool          // a reset was seen: watch no more
	stop    chan struct{} // closed to stop the running loop, nil if none
	done    chan struct{} // closed when the running loop returns
}

const (
	watchAfter = 100 * time.Millisecond
	watchEvery = 100 * time.Millisecond
)

// newWatch returns a watch for the direction reading r, or nil if its
// source is not a socket this platform can watch.
func (s *Spliced) newWatch(from, to int, r *spliceReader) *closeWatch {
	if r.raw == nil || !canWatch {
		return nil
	}
	w := &closeWatch{s: s, from: from, to: to, raw: r.raw}
	inner := r.c
	if r.fc != nil {
		inner = r.fc.Unwrap()
	}
	w.far = newFarSocket(inner.LocalAddr(), inner.RemoteAddr(), r.raw)
	return w
}

// arm is called before a write to the destination.
func (w *closeWatch) arm() {
	w.mu.Lock()
	w.writing = true
	ended := w.ended
	w.mu.Unlock()
	if ended {
		return
	}
	if w.timer == nil {
		w.timer = time.AfterFunc(watchAfter, w.start)
	} else {
		w.timer.Reset(watchAfter)
	}
}

// disarm is called once the write has returned: it stops the watch, and
// waits for its loop.
func (w *closeWatch) disarm() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Lock()
	w.writing = false
	stop, done := w.stop, w.done
	w.stop, w.done = nil, nil
	w.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// start runs on the timer's goroutine: the write is still blocked.
func (w *closeWatch) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.writing || w.ended || w.stop != nil {
		return
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.loop(w.stop, w.done)
}

func (w *closeWatch) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for !w.check() {
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// check looks at the source once and acts on a reset or a close. It
// reports whether the watch is over.
func (w *closeWatch) check() bool {
	var st sockState
	if err := w.raw.Control(func(fd uintptr) { st = probeSocket(fd) }); err != nil {
		return true // closed: the splice is ending
	}
	if st.err != 0 {
		w.end()
		s := w.s
		src := s.ends[w.from].c
		s.record(&net.OpError{Op: "read", Net: "tcp", Source: src.LocalAddr(), Addr: src.RemoteAddr(),
			Err: os.NewSyscallError("read", st.err)})
		s.close(w.to, true)
		s.close(w.from, false)
		return true
	}
	// A close is logged once; the watch goes on, for a reset that may
	// follow (or arrive after the server's socket is gone from the table).
	if !w.farClosed && w.far.closed() {
		w.farClosed = true
		if c, ok := w.s.ends[w.to].c.(*Conn); ok {
			detail := "the server closed its connection"
			if !st.fin {
				detail += "; its FIN waits behind the unread data"
			}
			c.log.add(EventFarClose, detail, -1)
		}
	}
	return false
}

func (w *closeWatch) end() {
	w.mu.Lock()
	w.ended = true
	w.mu.Unlock()
}

// sockState is what probeSocket sees of a socket without reading it.
type sockState struct {
	fin bool          // the peer's FIN has arrived
	err syscall.Errno // a pending error: ECONNRESET after an RST
}
