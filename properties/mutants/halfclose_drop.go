package mutants

import "bytes"

// halfCloseDrop reads ahead: a reader goroutine splits the input into lines
// and queues them on a channel while the connection's goroutine answers
// them; the reader reports the end of the input on a second channel.
//
// Bug: the answering loop selects on both channels and returns as soon as it
// sees the end of the input, dropping the complete lines still queued. A
// client that sends votes and then half-closes gets only some of them
// counted and answered. Clients that stay connected are not affected.
func halfCloseDrop(s *server) {
	s.readLoop = func(c *client) {
		lines := make(chan []byte, 64)
		hup := make(chan error, 1)
		quit := make(chan struct{})
		defer close(quit)
		s.goroutine(func() {
			r := newLineReader(c.conn)
			for {
				line, err := readLine(r)
				if err != nil {
					hup <- err
					return
				}
				select {
				case lines <- bytes.Clone(line):
				case <-quit:
					return
				}
			}
		})
		for {
			select {
			case err := <-hup:
				s.readFailed(c, err)
				return // with lines perhaps still queued: the bug
			case line := <-lines:
				if !s.dispatch(c, line) {
					return
				}
			}
		}
	}
}
