package mutants

import (
	"net"
	"sync"
)

// lockAcrossWrite is the naive broadcast server: each vote and each TALLY is
// written straight to the connections while the tally lock is held, which
// keeps every client's tallies in seq order for free.
//
// Bug: conn.Write under the tally lock. When one client stops reading, its
// socket buffers fill, the Write blocks holding the lock, and every other
// vote waits for the lock: the whole server freezes behind one slow client.
func lockAcrossWrite(s *server) {
	s.newSink = func(c *client) sink { return &direct{conn: c.conn} }
}

// direct writes each line to the connection as it comes, under a per-client
// lock that keeps lines whole.
type direct struct {
	conn net.Conn
	mu   sync.Mutex
}

func (d *direct) write(line []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.conn.Write(line)
	return err == nil
}

func (d *direct) reply(line []byte) bool       { return d.write(line) }
func (d *direct) last(line []byte)             { d.write(line) }
func (d *direct) room() bool                   { return true }
func (d *direct) answer(_ uint64, line []byte) { d.write(line) } // under the tally lock: the bug
func (d *direct) push(_ uint64, line []byte)   { d.write(line) } // under the tally lock: the bug
func (d *direct) finish()                      { d.conn.Close() }
