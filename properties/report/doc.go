// Package report writes the failure of one property check as files a
// reviewer can open from a CI run's artifacts, and the one-line verdicts
// that go test -json consumers pick up. It knows nothing of any protocol:
// the property engine fills a [Report] in the terms of the protocol under
// test (its requests, its clients and their roles) and calls
// [Report.WriteDir]. It imports only the standard library.
//
// # Files
//
// [Report.WriteDir] writes, in one directory per failing test ([DirFor]):
//
//	report.json    the report, in the schema below
//	timeline.svg   one lane per client, faults shaded, the violation as a line
//	README.md      the violation, the replay command, the list of files
//	<name>.fail    a copy of rapid's fail file ([FailFile]) with the replay
//	               command in '#' comment lines at its top; the copy replays
//	               with -rapid.failfile=<path of the copy>
//
// # report.json, version 1
//
// The JSON Schema is docs/report.schema.json in the repository. Durations
// are milliseconds, as JSON numbers that may have a fraction, in fields
// named *_ms. Every field is always present, but for the ones marked
// "added": absent from reports written before them; lists may be empty. Times are
// measured from the start of the reported (shrunk) check, except
// first_violation_ms.
//
//	version             1, the schema version ([Version]); it changes when a field is
//	                    removed, renamed or changes meaning, not when one is added
//	property            the property that failed: "progress", "consistency", ...
//	violation           what broke, in one or a few lines
//	protocol            the protocol the clients spoke: "stallproof v1", an Adapter's name
//	transport           "InMemory" or "LoopbackTCP"
//	seed                rapid's seed of the failing check, a decimal uint64 as a
//	                    string (it does not fit a JavaScript number); "0" if unknown
//	replay              the command that replays the failure, from the package's directory
//	bound_ms            how long a healthy client waited for an answer before the
//	                    server counted as stuck
//	first_violation_ms  from the start of the property's run to the first violation
//	                    seen, in whichever check: how long the search took
//	violation_at_ms     from the start of the reported check to its violation
//	steps[]             the scenario's steps, in order:
//	  at_ms               when the harness took the step
//	  text                what it did: "stall c3"
//	clients[]           every client of the scenario, in order of connection:
//	  id                  its number; its timeline lane is labelled "c<id>"
//	  kind                how it behaves: "healthy", "stalled", "trickler", ...
//	  role                its role in the protocol under test: "voter", "subscriber"; may be ""
//	  wrote_bytes         bytes it wrote
//	  read_bytes          bytes it read
//	  last[]              its last messages, oldest first
//	  events[]            its connection's fault log (faultnet's events):
//	    at_ms               when
//	    kind                "inject", "fire", "remove", "buffer-full", "reset", "close",
//	                        "close-write", "close-read"; "server-blocked" (the server's
//	                        socket to the client is full: its Write blocks); or a kind
//	                        added later
//	    text                the fault or detail: "StallReads()", "the server's Write
//	                        to c2 blocked at byte 8192"
//	  marks[]             its messages:
//	    at_ms               when it was sent or received
//	    kind                "request", "reply", "push" or "error"
//	    text                the message, or a short name for it
//	    count               added: how many messages the mark stands for, when more
//	                        than one: a burst of requests, a count of replies; a
//	                        client's replies and errors answer its requests in order
//	  spans[]             faults in force over a time:
//	    from_ms             when the fault took effect
//	    to_ms               when it was lifted; -1 if it never was ([Unlifted])
//	    kind                "stall", "trickle", "flood", ...
//	    text                the fault as code: "StallReads()"
//	goroutines          the server's goroutines at the violation, grouped by where
//	                    they wait, each frame with its file:line; "" if not captured
//	stacks[]            added: the same groups as data, the largest first:
//	  count               goroutines in the group
//	  state               what they wait for: "sync.Mutex.Lock", "IO wait", ...
//	  frames[]            innermost first: at most five, then the innermost frame of
//	                      the server's own module and the library call it made:
//	    func                the function with its package path; "..." for frames left out
//	    file                the file's base name; "" if unknown
//	    line                the line; 0 if unknown
//
// [SpansFromEvents] derives a client's Spans from its Events: a stall from
// its injection to its removal, say.
//
// # The timeline
//
// [Report.WriteTimeline] draws timeline.svg, 800 pixels wide so that it
// reads in a pull-request comment: the property and the violation on top;
// a lane of numbered scenario steps; one lane per client labelled "c3
// stalled · subscriber" with the bytes it moved. In a lane, each request
// is a bar from when it was sent to when it was answered (a client's
// replies answer its requests in order; a burst is one bar, and bars a
// few pixels apart are drawn as one, labelled with their number); a
// request never answered is an open red bar reaching the violation,
// labelled "unanswered: VOTE red" or "147 of 200 unanswered". Replies are
// ticks below the line, pushes dots, errors crosses, faults in force
// shaded bands; a buffer that filled is a triangle, a server blocked on
// the client a square, any other event a diamond labelled with its kind;
// labels never overlap (one without room is left out; every mark keeps a
// tooltip). The violation is a red vertical line; the axis is in
// milliseconds, an idle stretch shortened to a labelled break so that the
// activity gets the width. Under the chart, every step in full, wrapped,
// and the replay command. docs/timeline-example.svg is a freeze drawn this
// way.
//
// # Verdict lines
//
// One line per property and run, printed with t.Log, that a go test -json
// consumer reads from the Output events without opening the report:
//
//	stallproof: verdict property=progress result=FAIL checks=4 seed=8213418841 report=DIR violation="..."
//
// [FormatVerdict] writes it and [ParseVerdict] reads it; see FormatVerdict
// for the exact format.
package report
