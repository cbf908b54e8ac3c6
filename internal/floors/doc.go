// Package floors draws the module's import graph as floors and holds the
// test that keeps it so: a package imports only packages on its own floor
// or below, never above.
//
//	floor 4  cmd/stallproof             the binary
//	         cmd/stallproof/internal/   chaos, bench, designs, summary: the binary's alone
//	floor 3  protocols                  RESP, NATS, MQTT and Lines descriptions
//	floor 2  properties, properties/…   the suite, its reports, the mutants
//	floor 1  internal/…                 harness, netns, sockdiag, load, proxybench,
//	                                    broker, action, floors: what the floors above share
//	floor 0  faultnet, wire, server     the standard library only
//
// Go's rule for internal directories already keeps cmd/stallproof/internal
// to the binary; the test adds what the compiler does not check: that
// internal/ never imports properties, protocols or the binary, that
// properties never imports protocols or the binary, and that floor 0 imports
// nothing but the standard library and itself. Tests (_test.go files) may
// import from any floor: no importer of a package sees its tests' imports,
// and Go refuses the cycles that would matter. A package in a new top-level
// directory fails the test until the directory is given a floor there.
//
// Imported by nothing (it holds a test); imports nothing.
package floors
