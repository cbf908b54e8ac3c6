package main

import (
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stallproof/stallproof/server"
)

func init() { register("serve", "run the reference voting server (protocol v1)", runServe) }

func runServe(ctx context.Context, args []string) error {
	fs := newFlagSet("serve", "serve [flags]")
	var (
		addr          = fs.String("addr", "127.0.0.1:9000", "`address` to listen on")
		options       = fs.String("options", strings.Join(server.DefaultOptions, ","), "comma-separated `options` to vote for, in order")
		maxConns      = fs.Int("max-conns", server.DefaultMaxConns, "clients served at once; one more is told ERR busy")
		writeTimeout  = fs.Duration("write-timeout", server.DefaultWriteTimeout, "evict a client whose write blocks this long")
		lineTimeout   = fs.Duration("line-timeout", server.DefaultLineTimeout, "close a client whose started line takes this long")
		maxReplyBytes = fs.Int("max-reply-bytes", server.DefaultMaxReplyBytes, "evict a client with this many `bytes` of replies queued")
		drainTimeout  = fs.Duration("drain-timeout", server.DefaultDrainTimeout, "on shutdown, time to flush replies before closing clients")
		metrics       = fs.String("metrics", "", "`address` to serve expvar metrics on, at /debug/vars (off if empty)")
		logLevel      = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
		logFormat     = fs.String("log-format", "text", "log `format`: text or json")
		design        = fs.String("design", "reference", "`design` to serve: reference, or a broken one to watch tests catch ("+designNames()+")")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(*logLevel, *logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "stallproof serve: %v\n", err)
		return errUsage
	}
	if *design != "reference" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		return serveDesign(ctx, fs, *design, *addr, *writeTimeout, set, log)
	}
	srv, err := server.New(server.Config{
		Options:       strings.Split(*options, ","),
		MaxConns:      *maxConns,
		WriteTimeout:  *writeTimeout,
		LineTimeout:   *lineTimeout,
		MaxReplyBytes: *maxReplyBytes,
		DrainTimeout:  *drainTimeout,
		Logger:        log,
	})
	if err != nil {
		return flagError(fs, "-options", "%v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}

	if *metrics != "" {
		stopMetrics, err := serveMetrics(*metrics, srv, log)
		if err != nil {
			ln.Close()
			return fmt.Errorf("-metrics: %w", err)
		}
		defer stopMetrics()
	}

	log.Info("serving", "addr", ln.Addr().String(), "options", strings.Join(srv.Options(), ","))
	err = srv.Serve(ctx, ln)
	st := srv.Stats()
	log.Info("stopped", "votes", st.Seq, "accepted", st.Accepted,
		"evicted_write_timeout", st.Evictions.WriteTimeout, "evicted_queue_full", st.Evictions.QueueFull)
	return err
}

// serveMetrics serves expvar's /debug/vars on addr, with the server's
// stats published as "stallproof". It returns a function that stops it.
func serveMetrics(addr string, srv *server.Server, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	publishOnce(srv)
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server failed", "err", err)
		}
	}()
	log.Info("metrics", "url", "http://"+ln.Addr().String()+"/debug/vars")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
	}, nil
}

// current is the server whose stats the "stallproof" expvar reports.
// expvar.Publish panics when a name is published twice, so the variable is
// published once per process and reads whichever server is current.
var (
	current     atomic.Pointer[server.Server]
	publishVars sync.Once
)

func publishOnce(srv *server.Server) {
	current.Store(srv)
	publishVars.Do(func() {
		expvar.Publish("stallproof", expvar.Func(func() any { return current.Load().Stats() }))
	})
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("-log-format: %q is not text or json", format)
}
