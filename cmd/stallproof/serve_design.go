package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/stallproof/stallproof/internal/chaos"
)

// designNames lists the designs "serve -design" accepts.
func designNames() string {
	var names []string
	for _, d := range chaos.Designs() {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// referenceOnlyFlags are serve's flags that configure the reference server
// and mean nothing to another design.
var referenceOnlyFlags = []string{"options", "max-conns", "line-timeout", "max-reply-bytes", "drain-timeout", "metrics"}

// serveDesign serves a design other than the reference, as chaos knows it
// (a mutant of properties/mutants, or ack-only), on addr until ctx ends.
func serveDesign(ctx context.Context, name, addr string, writeTimeout time.Duration, set map[string]bool, log *slog.Logger) error {
	ds, err := chaos.LookupDesigns([]string{name})
	if err != nil {
		fmt.Fprintf(stderr, "-design: %v\n", err)
		return errUsage
	}
	for _, f := range referenceOnlyFlags {
		if set[f] {
			fmt.Fprintf(stderr, "-%s: applies to -design reference only, not %s\n", f, name)
			return errUsage
		}
	}
	d := ds[0]
	serve, _, err := d.Start(writeTimeout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Info("serving", "addr", ln.Addr().String(), "design", d.Name, "about", d.About)
	err = serve(ctx, ln)
	log.Info("stopped", "design", d.Name)
	return err
}
