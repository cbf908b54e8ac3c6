package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/stallproof/stallproof/cmd/stallproof/internal/designs"
)

// designNames lists the designs "serve -design" accepts.
func designNames() string {
	return strings.Join(designs.Names(), ", ")
}

// referenceOnlyFlags are serve's flags that configure the reference server
// and mean nothing to another design.
var referenceOnlyFlags = []string{"options", "max-conns", "line-timeout", "max-reply-bytes", "drain-timeout", "metrics"}

// serveDesign serves a design other than the reference, from the design
// registry (a mutant of properties/mutants, or ack-only), on addr until ctx
// ends.
func serveDesign(ctx context.Context, fs *flag.FlagSet, name, addr string, writeTimeout time.Duration, set map[string]bool, log *slog.Logger) error {
	ds, err := designs.Lookup([]string{name})
	if err != nil {
		return flagError(fs, "-design", "%v", err)
	}
	for _, f := range referenceOnlyFlags {
		if set[f] {
			return flagError(fs, "-"+f, "applies to -design reference only, not %s", name)
		}
	}
	d := ds[0]
	serve, _, err := d.Start(writeTimeout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "design", d.Name, "about", d.About)
	err = serve(ctx, ln)
	log.Info("stopped", "design", d.Name)
	return err
}
