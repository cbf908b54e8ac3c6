// Package properties is a property-based test suite for TCP servers with
// many clients: it checks that a server stays live and consistent whatever
// its clients do, and finds the bugs that `go test -race` cannot see.
//
// The race detector reports data races on paths that ran. It does not
// report a server frozen because one goroutine holds a mutex while its Write
// blocks on a client that stopped reading; a broadcast worker that
// head-of-line blocks everyone behind one slow client; a snapshot that
// overwrites a newer one; a goroutine leaked on disconnect; or votes lost
// when a client half-closes. Run finds these, for any server that can serve
// on a net.Listener, and shrinks each to a short schedule of client actions
// with pgregory.net/rapid.
//
// # How it works
//
// Each property is a subtest running rapid checks. A check starts the server
// on a fresh faultnet listener (in memory by default, or real loopback TCP
// with tiny kernel buffers), connects clients of drawn kinds (healthy, one
// that writes a byte at a time, one that sends garbage, stalled, trickling,
// flooding, slowloris), runs a drawn list of actions (vote, query, stall or
// resume a client, flood, accept-error burst, connect, disconnect, reset,
// half-close), then a phase that stresses the property, an audit of the
// final state, and a shutdown. Every wait is bounded (Bound, 2 s by
// default): a frozen server is infinitely slow, so a generous bound tells it
// from a slow machine and the check fails instead of hanging.
//
// The harness knows every acknowledged vote, so it checks each tally a
// client receives against them as it arrives, and again at the audit.
//
// # Properties
//
//	progress     every healthy client's request is answered within the bound,
//	             whatever the others do, also while Accept fails with EMFILE
//	consistency  OK seqs unique; TALLY k counts exactly the acknowledged votes
//	             with seq ≤ k; a client's tallies never go back; at the end every
//	             healthy client holds the final tally; acknowledged ≤ final ≤ sent
//	isolation    healthy clients' median ack latency with stalled and flooding
//	             peers stays within 20× (+50 ms) of the latency without them
//	bounded      the heap does not grow with the tallies owed to stalled clients;
//	             a flooder that never reads is evicted or pushed back; an endless
//	             line gets ERR line-too-long
//	halfclose    votes before a half-close are answered and counted, then a tally
//	             and EOF; the unfinished last line is not counted; a reset loses
//	             no acknowledged vote
//	leaks        goroutines return to the baseline once clients leave; shutdown
//	             with stalled clients ends within the bound and leaves nothing
//
// # Failures
//
// A failure names the property and gives the shrunk steps, the seed and the
// command to replay it (rapid's -rapid.failfile), each client's last lines
// and the faults fired on its connection, and the server's goroutines at
// the moment of the violation, grouped by where they wait: for the classic
// freeze, one in faultnet.(*Conn).Write and the rest in sync.(*Mutex).Lock.
// To see passing scenarios too, run with STALLPROOF_TRACE=1 and -rapid.v.
//
// # Proof that it catches bugs
//
// Package properties/mutants holds servers that are correct but for one
// named bug each (lock held across Write, the broadcast-worker "fix",
// unbounded queues, leaked writers, racy and torn snapshots, a stale
// mailbox, votes dropped on half-close, an accept loop that gives up, ...).
// This package's tests run the suite against every mutant, in a child
// process, and assert which property catches it; and against the reference
// server in package server, which must pass.
//
// # Other protocols
//
// A server with its own line protocol gets the generic properties
// (progress, isolation, bounded, leaks) through an Adapter; see
// examples/chat and PORTING.md.
package properties
