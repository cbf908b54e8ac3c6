package mutants

import (
	"errors"
	"io"
)

// halfCloseDrop takes the end of a client's input to mean that the client
// is gone, so it closes the connection at once.
//
// Bug: a client that half-closes is still reading. The lines it sent just
// before are counted, but their replies (and the latest tally) are still
// queued for the writer when the connection is closed, so they are dropped:
// votes sent before a half-close are not all answered. Clients that stay
// connected, or QUIT, are not affected.
func halfCloseDrop(s *server) {
	s.readLoop = func(c *client) error {
		err := s.readLines(c)
		if errors.Is(err, io.EOF) {
			c.conn.Close() // without flushing: the bug
		}
		return err
	}
}
