package mutants

import "net"

// blockingQueue returns the build of a mutant that gives each client its
// own writer goroutine fed by a channel of depth lines, so no lock is held during I/O and a client
// that reads slowly for a moment costs nobody anything: the look of a fix.
//
// Bug: the send to the channel blocks when it is full, and the vote path
// sends the new tally to every client with the tally lock held. A stalled
// client freezes every vote, but only once its socket buffer and then its
// depth queued tallies are full: a scenario that stalls a client and votes
// a little never sees it.
func blockingQueue(depth int) func(s *server) {
	return func(s *server) {
		s.newSink = func(c *client) sink {
			q := &chanQueue{conn: c.conn, lines: make(chan []byte, depth), done: s.done,
				stop: make(chan struct{}), ended: make(chan struct{})}
			s.goroutine(q.run)
			return q
		}
	}
}

// chanQueue is one client's channel and writer.
type chanQueue struct {
	conn  net.Conn
	lines chan []byte
	done  <-chan struct{} // the server stops
	stop  chan struct{}   // closed by finish: write what is queued and end
	ended chan struct{}   // closed when the writer has ended
}

// send queues line, waiting while the queue is full: the bug, when called
// with the tally lock held.
func (q *chanQueue) send(line []byte) bool {
	select {
	case q.lines <- line:
		return true
	case <-q.done:
		return false
	case <-q.ended:
		return false
	}
}

// run writes the queued lines until finish, the server's stop or a failed
// write; at finish, it writes what is queued first.
func (q *chanQueue) run() {
	defer close(q.ended)
	for {
		select {
		case line := <-q.lines:
			if _, err := q.conn.Write(line); err != nil {
				return
			}
		case <-q.stop:
			for {
				select {
				case line := <-q.lines:
					if _, err := q.conn.Write(line); err != nil {
						return
					}
				default:
					return
				}
			}
		case <-q.done:
			return
		}
	}
}

func (q *chanQueue) reply(line []byte) bool       { return q.send(line) }
func (q *chanQueue) room() bool                   { return true }
func (q *chanQueue) answer(_ uint64, line []byte) { q.send(line) }
func (q *chanQueue) push(_ uint64, line []byte)   { q.send(line) } // under the tally lock: the bug
func (q *chanQueue) last(line []byte)             { q.send(line) }

// finish lets the writer write what is chanQueue, then closes the connection.
func (q *chanQueue) finish() {
	close(q.stop)
	select {
	case <-q.ended:
	case <-q.done:
	}
	q.conn.Close()
}
