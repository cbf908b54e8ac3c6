// Package designs is the registry of the server designs that "stallproof
// chaos" and "stallproof bench" can run in this process: the reference
// server (package [server]), the ack-only I/O limit, and every mutant of
// package [mutants].
//
// [All] lists them; [Lookup] finds them by name; [Design.Start] returns a
// fresh server of a design, to be run with package [harness].
//
// Imported by cmd/stallproof and its internal packages bench and chaos;
// imports only the standard library, packages [server], [mutants] and
// [harness].
package designs

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/properties/mutants"
	"github.com/stallproof/stallproof/server"
)

// A Design is a server design that can be put under load.
type Design struct {
	Name  string
	About string // one line: what the design does, or what is wrong with it

	start func(writeTimeout time.Duration) (harness.ServeFunc, func() uint64, error)
}

// Start returns a fresh server of the design, ready to Serve once, and a
// function that reads its evictions (nil if the design keeps no count).
// writeTimeout is the reference server's (0: its default); the other
// designs have none.
func (d Design) Start(writeTimeout time.Duration) (serve harness.ServeFunc, evictions func() uint64, err error) {
	return d.start(writeTimeout)
}

// All returns every design: the reference server, the ack-only I/O limit,
// and every mutant of properties/mutants, in that order.
func All() []Design {
	ds := []Design{
		{
			Name:  "reference",
			About: "the reference server: no I/O under a lock, a writer and a one-slot conflating mailbox per client, slow consumers evicted",
			start: func(writeTimeout time.Duration) (harness.ServeFunc, func() uint64, error) {
				s, err := server.New(server.Config{WriteTimeout: writeTimeout})
				if err != nil {
					return nil, nil, err
				}
				return s.Serve, func() uint64 {
					e := s.Stats().Evictions
					return e.WriteTimeout + e.QueueFull
				}, nil
			},
		},
		{
			Name:  "ack-only",
			About: "not a design: answers VOTE with OK and keeps no tally, the I/O limit",
			start: func(time.Duration) (harness.ServeFunc, func() uint64, error) {
				return mutants.AckOnly, nil, nil
			},
		},
	}
	for _, m := range mutants.All() {
		ds = append(ds, Design{
			Name:  m.Name,
			About: m.Bug,
			start: func(time.Duration) (harness.ServeFunc, func() uint64, error) {
				return m.Serve, nil, nil
			},
		})
	}
	return ds
}

// Names returns the names of every design, in the order of All.
func Names() []string {
	var names []string
	for _, d := range All() {
		names = append(names, d.Name)
	}
	return names
}

// Lookup returns the designs named, in order. It fails on a name it does
// not know, saying which names it knows, and on a name given twice.
func Lookup(names []string) ([]Design, error) {
	all := All()
	var out []Design
	for _, n := range names {
		i := slices.IndexFunc(all, func(d Design) bool { return d.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown design %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		if slices.ContainsFunc(out, func(d Design) bool { return d.Name == n }) {
			return nil, fmt.Errorf("design %q named twice", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}
