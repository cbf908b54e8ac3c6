package chaos

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/stallproof/stallproof/properties/mutants"
	"github.com/stallproof/stallproof/server"
)

// A Design is a server design that Run can put under load.
type Design struct {
	Name  string
	About string
	// start returns a fresh server: its Serve, and a function that reads
	// its evictions, or nil if the design keeps no such count.
	start func(cfg Config) (serve func(context.Context, net.Listener) error, evictions func() uint64, err error)
}

// DefaultDesigns are the designs Run compares when Config.Designs is empty.
var DefaultDesigns = []string{"reference", "lock-across-write", "broadcast-worker"}

// Designs returns every design Run knows: the reference server, the
// ack-only I/O limit, and every mutant of properties/mutants.
func Designs() []Design {
	ds := []Design{
		{
			Name:  "reference",
			About: "the reference server: no I/O under a lock, a writer and a one-slot conflating mailbox per client, slow consumers evicted",
			start: func(cfg Config) (func(context.Context, net.Listener) error, func() uint64, error) {
				s, err := server.New(server.Config{WriteTimeout: cfg.WriteTimeout})
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
			start: func(Config) (func(context.Context, net.Listener) error, func() uint64, error) {
				return mutants.AckOnly, nil, nil
			},
		},
	}
	for _, m := range mutants.All() {
		ds = append(ds, Design{
			Name:  m.Name,
			About: m.Bug,
			start: func(Config) (func(context.Context, net.Listener) error, func() uint64, error) {
				return m.Serve, nil, nil
			},
		})
	}
	return ds
}

// Start returns a fresh server of the design, ready to Serve once, and a
// function that reads its evictions (nil if the design keeps no count).
// writeTimeout is the reference server's (0: its default).
func (d Design) Start(writeTimeout time.Duration) (serve func(context.Context, net.Listener) error, evictions func() uint64, err error) {
	return d.start(Config{WriteTimeout: writeTimeout})
}

// LookupDesigns returns the designs named, in order.
func LookupDesigns(names []string) ([]Design, error) {
	all := Designs()
	var out []Design
	for _, n := range names {
		i := slices.IndexFunc(all, func(d Design) bool { return d.Name == n })
		if i < 0 {
			known := make([]string, len(all))
			for j, d := range all {
				known[j] = d.Name
			}
			return nil, fmt.Errorf("unknown design %q (known: %s)", n, strings.Join(known, ", "))
		}
		if slices.ContainsFunc(out, func(d Design) bool { return d.Name == n }) {
			return nil, fmt.Errorf("design %q named twice", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// stopWait bounds the wait for one design to stop, by default.
const defaultStopWait = 5 * time.Second
