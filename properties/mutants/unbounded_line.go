package mutants

import "bufio"

// unboundedLine reads requests with bufio.Reader.ReadBytes, which has no
// length limit.
//
// Bug: a client that sends bytes and never a newline makes the server buffer
// them all: its memory grows without bound, and an over-long line is not
// refused (ERR line-too-long, then close) but read whole and answered as a bad request.
func unboundedLine(s *server) {
	s.readLoop = func(c *client) error {
		r := bufio.NewReader(c.conn)
		for {
			line, err := r.ReadBytes('\n') // no limit: the bug
			if err != nil {
				return err
			}
			if !s.dispatch(c, line) {
				return nil
			}
		}
	}
}
