package mutants

// unboundedQueue gives each client its own writer goroutine, so no lock is
// held during I/O and a stalled client blocks only its own writer.
//
// Bug: the writer's queue has no bound and keeps every line: each vote
// appends a tally to the queue of a client that does not read, and a client
// that floods without reading gets its replies queued forever. Memory grows
// with the number of votes instead of staying O(1) per client (no
// conflation, no eviction, no backpressure).
func unboundedQueue(s *server) {
	s.newSink = func(c *client) sink { return unbounded{s.startOutbox(c)} }
}

// unbounded is an outbox whose replies and pushes all go to the reply queue,
// never waiting for room.
type unbounded struct{ *outbox }

func (u unbounded) reply(line []byte) bool       { u.enqueue(line, 0); return true }
func (u unbounded) last(line []byte)             { u.enqueue(line, 0) }
func (u unbounded) room() bool                   { return true }
func (u unbounded) push(seq uint64, line []byte) { u.enqueue(line, seq) }
