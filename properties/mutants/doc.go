// Package mutants is a corpus of deliberately broken voting servers: each
// speaks protocol v1 (package wire) correctly except for one named
// bug, so that a property suite can prove it catches that bug, and which
// property catches it.
//
// All lists the mutants; each Mutant carries its Name, its Bug in one
// sentence, the properties expected to catch it (Caught: Progress,
// Consistency, Isolation, Bounded, HalfClose, Leaks, Race) and a Serve
// function shaped like properties.ServeFunc. Serve offers DefaultOptions;
// Mutant.ServeOptions offers others.
//
// Guarantees, for every mutant and apart from its bug:
//   - a healthy client on a healthy network sees a correct server: HELLO,
//     VOTE answered OK <seq> after the vote is counted, TALLY, QUIT → BYE,
//     ERR codes, pushed tallies after votes, the 256-byte line limit;
//   - Serve stops when its context is done: it closes the listener and
//     every connection (which unblocks a Write stuck on a stalled client)
//     and returns after the goroutines it started have ended. The
//     exception is leaky-writer, whose leaked goroutines end just after.
//
// How to read it: common.go is the plumbing every mutant shares (tally,
// line reading, dispatch, accept loop, shutdown) with hooks for the parts a
// design may get wrong, and outbox.go is the correct per-client delivery.
// Each other file is one mutant: a comment naming its bug, and the hooks it
// replaces. The tests show that every mutant passes the checks outside its
// Caught list and demonstrate each bug directly.
//
// AckOnly is not a mutant: it answers votes and keeps no tally, the I/O
// limit that benchmarks compare the real server with.
package mutants
