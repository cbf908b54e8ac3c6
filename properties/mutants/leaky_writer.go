package mutants

import "sync"

// leakyWriter uses the correct per-client outbox, but its writer goroutine is
// a loop that was meant to return once its client is done, and only
// finishes the client instead.
//
// Bug: when a client disconnects (or quits), the writer flushes, closes the
// connection, and goes back to waiting for a wake-up that never comes: one
// goroutine (and its buffer) leaked per client that ever connected, for as
// long as the server runs. Serve doesn't wait for these writers; they end
// just after it, when they see the server stop.
func leakyWriter(s *server) {
	s.newSink = func(c *client) sink {
		o := newOutboxFor(c.conn)
		go leakedWriter(o, s.done) // not in s.wg
		return o
	}
}

func leakedWriter(o *outbox, stop <-chan struct{}) {
	var once sync.Once
	finished := func() { // the client is done...
		o.conn.Close()
		close(o.dead)
	}
	defer once.Do(finished)
	for {
		select {
		case <-stop:
			return
		default:
		}
		if !o.writeNext(stop) {
			once.Do(finished)
			// ...but the loop goes on: the missing return is the bug.
		}
	}
}
