// Package properties is a property-based test suite for servers with many
// clients: it checks that a server stays live and consistent whatever its
// clients do, and finds the bugs that `go test -race` cannot see.
//
// The race detector reports data races on paths that ran. It does not
// report a server frozen because one goroutine holds a mutex while its Write
// blocks on a client that stopped reading; a broadcast worker that
// head-of-line blocks everyone behind one slow client; a subscriber dropped
// silently; a snapshot that overwrites a newer one; a goroutine leaked on
// disconnect; or requests lost when a client half-closes. The suite finds
// these, and shrinks each to a short schedule of client actions with
// pgregory.net/rapid.
//
// # Entry points
//
//   - [Run]: a server that serves on a [net.Listener] it is given (a
//     [ServeFunc]);
//   - [RunDial]: a server that hands out in-process connections;
//   - [RunAddr]: a server already listening on a loopback address, in any
//     language; [CheckAddr] is the same outside go test, for the
//     stallproof check command;
//   - [RunExec]: a server this suite starts from a command line, in any
//     language, inside a private network namespace whose socket buffers
//     are small ([ExecSocketBufferSize]), so that a client that stops
//     reading blocks it after kilobytes, not the megabytes of loopback;
//     [CheckExec] is the same outside go test (stallproof check -exec).
//
// # Protocols
//
// The engine knows clients, kinds, roles, requests, replies, pushes, faults
// and time; a [Protocol] tells it the rest: the [Role]s clients play, the
// hello each writes on connect, the requests each makes, how to frame the
// server's bytes, and what each server message is ([Class]: reply, push,
// error). Or it makes clients with your own Go client library
// (Protocol.Connect) over the suite's connections. Protocol v1, the voting
// protocol of package wire, is one description ([ProtocolV1], the default);
// [WithProtocol] selects another, and [WithAdapter] is the shorthand for a
// simple line protocol. Package protocols has RESP, NATS, MQTT 3.1.1 and a
// line pub/sub built in.
//
// # How it works
//
// Each property is a subtest running rapid checks. A check is one rapid
// test case: one scenario drawn, run and judged (rapid's own output counts
// them as "tests"; [Checks] or rapid's -rapid.checks flag sets how many). A
// check starts the
// server on a fresh faultnet listener (in memory by default, or loopback
// TCP with tiny socket buffers), or reaches it through faultnet splices;
// connects clients of drawn kinds (healthy, one that writes a byte at a
// time, stalled, trickling, flooding, slowloris, and for protocol v1 one
// that sends garbage) and roles; runs a drawn list of actions (request,
// stall or resume a client, flood, accept-error burst, connect,
// disconnect, reset, and for protocol v1 query and half-close); then a
// phase that stresses the property, an audit of the final state (protocol
// v1), and a shutdown. Every wait is bounded ([Bound], 2 s by default): a
// frozen server is infinitely slow, so a generous bound tells it from a
// slow machine, and the check fails instead of hanging.
//
// # Virtual time
//
// With [VirtualTime] (or STALLPROOF_TIME=virtual), Run runs each check
// inside a testing/synctest bubble, whose clock jumps ahead whenever every
// goroutine in it is durably blocked: the bound, the scenario's holds and
// pauses, and the server's own timers cost no wall time. The reference
// server's Run takes under half as long, and a server blocked in a Write
// with every client waiting fails its bound at once.
//
// A goroutine waiting for a sync.Mutex is not durably blocked, so the
// clock stands still while one waits: behind a server frozen with a lock
// held across a Write, but also behind a live one whose goroutine holds a
// lock while it waits with a deadline (a per-connection write lock around
// a Write with a deadline, say). Which goroutine holds a lock, and whether
// its wait has a timer, cannot be seen, so the suite never judges a
// server by a clock that stopped. A watchdog outside the bubble gives the
// bubble up when its clock stands still for half a second while its
// goroutines wait for a lock, a channel made outside it or I/O (or for 30
// seconds while they run without ever blocking). A violation the check
// saw before that stands; otherwise the check is inconclusive, and the
// rest of the Run goes on in real time, where a frozen server fails its
// bound as ever (a property shrinking a failure found in a bubble finishes
// in bubbles, so that rapid replays it on the clock it failed on). The
// verdict note says which clock each property ran on, and why it changed.
//
// A given-up bubble is left as it is: its goroutines stay parked (should
// one wake, its check ends quietly), holding what they hold, until the
// test binary exits, where goleak.VerifyTestMain, after a passing run,
// reports them. ServeFunc's contract, no state shared between calls, keeps
// them from blocking later checks. Servers that write through a
// per-client goroutine or channel, not under a lock, run in virtual time
// throughout, but for isolation, which compares latencies. (Before the
// first check, one client is served in real time, unjudged, so that
// whatever a server starts once per process starts outside any bubble.)
// For the others, keep real time, the default; keep it too for a server
// that checks times against time.Now (TLS certificates, tokens): a
// bubble's clock starts at midnight UTC on 2000-01-01.
//
// # Properties
//
// In the order a Run checks them, so that a broken server is told soon:
// progress finds a frozen server, isolation a slow one, bounded a queue
// that grows (which slows every later property); then consistency,
// halfclose, delivery and leaks run side by side, each check on its own
// listener with its own Serve call (the leak checks tell one server's
// goroutines from another's by a profiler label; OneAtATime runs every
// property in turn, for a server whose Serve calls share state).
//
//	progress     every healthy client's request is answered within the bound,
//	             whatever the others do, also while Accept fails with EMFILE
//	isolation    a healthy client's median answer latency with stalled and
//	             flooding peers stays within 20× (+50 ms) of its latency alone
//	bounded      the heap does not grow with what stalled clients are owed
//	             beyond the declared SlowConsumers policy; a flooder that never
//	             reads is evicted or pushed back; (v1) an endless line is refused
//	consistency  (protocol v1) OK seqs unique; TALLY k counts exactly the
//	             acknowledged votes with seq ≤ k; tallies never go back; at the
//	             end every healthy client holds the final tally
//	halfclose    (protocol v1) votes before a half-close are answered and
//	             counted, then a tally and EOF; a reset loses no acknowledged vote
//	delivery     healthy subscribers receive their pushes within the bound after
//	             each publish while others stall; a stalled subscriber that
//	             resumes catches up or is told it was dropped
//	leaks        goroutines return to the baseline once clients leave; shutdown
//	             with stalled clients whose buffers are full ends within the
//	             bound and leaves nothing
//
// # Verdicts
//
// A property fails, never passes, when the server never greets or never
// serves, when Serve returns early (its error is in the report), when any
// violation cut a scenario short, or when a check exercised nothing. Once
// a check finds the server stopped answering, shrinking uses a probe bound
// and the rest of the Run fails at once with that cause ([RunAll] runs
// everything regardless); once a property fails without a freeze, the
// later ones run a fifth of their checks, and their verdicts say so.
//
// Each property's first check also runs a fixed, directed phase, so that
// a bug is found by design, not on a lucky draw: progress stalls a
// subscriber, publishes until the server's Write to it has blocked (seen
// on the in-memory network, or in the kernel over TCP), then on past any
// bounded per-client queue that waits for room (2048 more pushes to a
// healthy client in memory; over TCP, 256 KiB and 2048 pushes more, or 5
// MiB in all where a proxy may stand in front of the server); delivery
// keeps a stalled subscriber full for 150 ms, longer than a server that
// quietly gives up on slow writers waits, and a server whose writes to it never
// block (one that conflates or paces its pushes) has its verdict say that
// this stall was not checked; so does leaks, whose last phase shuts the
// server down while its writes to stalled clients are blocked, if in no
// check they were. What a target cannot have (Accept errors without the
// suite's listener, say) is skipped with the reason, never passed.
//
// A failure prints one report, for the shrunk scenario: the steps with
// their times, each client by number, kind and role with its last messages
// and the faults fired on its connections, and the server's goroutines at
// the first violation, grouped by where they wait (for the classic freeze,
// one in faultnet.(*Conn).Write and the rest in sync.(*Mutex).Lock). Each
// property also logs a verdict line, and with STALLPROOF_REPORT_DIR (or
// [ReportDir]) writes report.json, timeline.svg and the fail file (package
// properties/report). STALLPROOF_SHARD=i/n runs one shard of a long soak.
// To see passing scenarios too, run with STALLPROOF_TRACE=1 and -rapid.v.
//
// # Proof that it catches bugs
//
// Package properties/mutants holds servers that are correct but for one
// named bug each. This package's tests run the suite against every mutant,
// in a child process, and assert that every property in the mutant's
// Caught list fails; against the reference server of package server, which
// must pass; and against servers that never serve, which must fail every
// property.
package properties
