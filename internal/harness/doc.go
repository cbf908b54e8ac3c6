// Package harness runs a server under test in this process: it starts it
// on a listener, stops it within a bound, and, when it does not stop, says
// what is stuck, as net/http/httptest's Server.Close logs the connections
// it waits for.
//
// [Start] runs a [ServeFunc] (a server's Serve method, or any function of
// that shape) in a goroutine labelled with the server's name; every
// goroutine the server starts inherits the label, so [Server.Stop] can name
// the goroutines still running when the bound passes (a [StuckError]) and
// [GoroutinesByLabel] can count each server's goroutines while several run
// side by side. [StartT] does the same for a test and stops the server at
// its cleanup. [Listen] makes the listener: faultnet's in-memory network,
// or loopback TCP with small socket buffers ([Network]); [CheckLoopback]
// refuses an address off this machine. [HeapAfterGC]
// reads the live heap after forced GCs. [DefaultParallel] lets a test
// binary whose parallel tests wait on child processes run more of them at
// once.
//
// [Server.Done] and [Server.Err] let a caller wait for Serve beside other
// things, and a [StuckError] names what did not stop.
//
// Imported by package properties, by cmd/stallproof and its internal
// packages (chaos, bench, designs), and by the tests of packages server and
// internal/load; imports only the standard library and package [faultnet].
package harness
