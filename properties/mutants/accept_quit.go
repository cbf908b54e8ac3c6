package mutants

// acceptQuit treats every accept error as fatal, as in the loop
// `for { conn, err := ln.Accept(); if err != nil { return err }; ... }`.
//
// Bug: one temporary error (EMFILE when out of file descriptors,
// ECONNABORTED) stops the server, which then closes every connection: new
// clients are refused and connected ones are cut off. The correct loop backs
// off and retries (common.go).
func acceptQuit(s *server) {
	s.retryAccept = func(error) bool { return false }
}
