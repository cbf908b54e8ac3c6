package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/harness"
	"github.com/stallproof/stallproof/internal/netns"
	"github.com/stallproof/stallproof/internal/sockdiag"
)

func init() {
	register("proxy", "a TCP proxy on loopback that injects faultnet faults between a client and any server", runProxy)
}

const proxyHelp = `
Every connection to -listen is proxied to -upstream. Faults act on one leg of
a connection: on "upstream" the proxy is the client as the server sees it
(StallReads() there is a client that stops reading: the server's Write
blocks once the small socket buffers fill), on "client" it is the server as
the client sees it. Back-pressure, half-close and resets pass through.

Faults (-fault LEG:FAULT, repeatable, for every connection; JSON kind in []):
  StallReads()                  [stall_reads]
  BlockWrites()                 [block_writes]
  TrickleReads(bytes, every)    [trickle_reads]     TrickleWrites(bytes, every)  [trickle_writes]
  Bandwidth(bytes_per_sec)      [bandwidth]
  Latency(delay[, jitter])      [latency]
  ShortReads(bytes)             [short_reads]       ShortWrites(bytes)           [short_writes]
  RandomShortReads(bytes)       [random_short_reads]
  RandomShortWrites(bytes)      [random_short_writes]
  HalfCloseWrite()  HalfCloseRead()  Hangup()  Reset()
                                [close_write close_read close reset]
  AfterRead(bytes, FAULT)  AfterWritten(bytes, FAULT)  AfterTime(after, FAULT)
                                [after_read after_written after_time, with "then"]
Durations are Go durations: 250ms, 1.5s. The faults' old names are still
accepted: CloseWrite(), CloseRead() and Close() (old names of HalfCloseWrite(),
HalfCloseRead() and Hangup()).

Control API (-control ADDR, HTTP, JSON; see docs/proxy.md):
  GET    /stats          counters: accepted, live, dial_errors, goroutines
  GET    /conns          live connections: id, client, upstream_local (the client
                           as the server sees it), bytes up and down, faults per leg
  GET    /conns/{id}     one connection, with its event log; server_blocked (Linux):
                           when the kernel showed the server's writes to it blocked
  GET    /faults         faults added through the API
  POST   /faults         add one: {"name": "slow", "conn": 3 or "new", "stream": "upstream",
                           "fault": {"kind": "latency", "delay": "20ms", "jitter": "5ms"}}
                         stream as toxiproxy's: upstream = client->server, downstream =
                         server->client; or "leg": "client" or "upstream" as in -fault
  GET    /faults/{ref}   one fault, by number or name
  DELETE /faults/{ref}   remove one
  POST   /reset          remove every fault, -fault ones included
  Errors: {"error": "..."}, status 400 (bad fault, duration, stream), 404, 405, 409.

The upstream is dialed for each connection: it may come up after the proxy
(until then each client is reset, and /stats counts dial_errors).

Example:
  stallproof serve -addr 127.0.0.1:9000 &
  stallproof proxy -listen 127.0.0.1:9100 -upstream 127.0.0.1:9000 -control 127.0.0.1:9101
  curl -d '{"stream":"downstream","fault":{"kind":"stall_reads"}}' 127.0.0.1:9101/faults
`

func runProxy(ctx context.Context, args []string) error {
	fs := newFlagSet("proxy", "proxy -listen ADDR -upstream ADDR [flags]")
	var (
		listen   = fs.String("listen", "127.0.0.1:9100", "loopback `address` to accept clients on")
		upstream = fs.String("upstream", "127.0.0.1:9000", "loopback `address` of the server to proxy to")
		control  = fs.String("control", "", "loopback `address` of the HTTP control API (off if empty)")
		sockBuf  = fs.Int("socket-buffer", faultnet.DefaultProxySocketBufferSize, "socket buffers (SO_SNDBUF, SO_RCVBUF) of both legs, in `bytes` (0: the kernel's)")
		dialTO   = fs.Duration("dial-timeout", faultnet.DefaultProxyDialTimeout, "bound on each dial to the upstream")
		logLevel = fs.String("log-level", "info", "log `level`: debug (every connection), info, warn or error")
		execCmd  = fs.String("exec", "", "`command line` of a server to start (with sh -c) in a private network namespace and proxy to, instead of -upstream")
		execBuf  = fs.Int("exec-socket-buffer", netns.DefaultSocketBufferSize, "maximum socket buffer in -exec's namespace, in `bytes`")
		faults   faultFlags
	)
	oldFlagName(fs, "kernel-buffer", "socket-buffer")
	oldFlagName(fs, "exec-kernel-buffer", "exec-socket-buffer")
	fs.Var(&faults, "fault", "`LEG:FAULT` injected into every connection, e.g. upstream:StallReads() (repeatable)")
	addHelp(fs, args, proxyHelp+proxyExecHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	upstreamSet := false
	fs.Visit(func(f *flag.Flag) { upstreamSet = upstreamSet || f.Name == "upstream" })
	switch {
	case *execCmd != "" && upstreamSet:
		return flagError(fs, "-exec, -upstream", "give one: -exec starts the upstream server itself")
	case *execCmd != "" && *execBuf < 4096:
		return flagError(fs, "-exec-socket-buffer", "want 4096 bytes or more, got %d", *execBuf)
	}
	for _, f := range []struct{ name, addr string }{{"-listen", *listen}, {"-upstream", *upstream}, {"-control", *control}} {
		if (f.addr == "" && f.name == "-control") || (f.name == "-upstream" && *execCmd != "") {
			continue
		}
		if err := checkLoopbackAddr(f.addr); err != nil {
			return flagError(fs, f.name, "%v", err)
		}
	}
	if *dialTO <= 0 {
		return flagError(fs, "-dial-timeout", "want a duration above 0, got %v", *dialTO)
	}
	log, err := newLogger(*logLevel, "text")
	if err != nil {
		fmt.Fprintf(stderr, "stallproof proxy: %v\n", err)
		return errUsage
	}
	opts := []faultnet.ProxyOption{
		faultnet.ProxySocketBufferSize(*sockBuf),
		faultnet.ProxyDialTimeout(*dialTO),
		faultnet.ProxyLogf(func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) }),
	}
	for _, f := range faults {
		opts = append(opts, faultnet.ProxyFaults(f.leg, f.fault))
	}
	var px *proxyExec
	var openDiag func() (*sockdiag.Conn, error)
	if *execCmd != "" {
		if px, err = startProxyExec(ctx, *execCmd, *execBuf); err != nil {
			fmt.Fprintf(stderr, "stallproof proxy: %v\n", err)
			return errUsage
		}
		defer px.srv.Stop()
		*upstream = px.srv.Addr()
		opts = append(opts, px.options()...)
		openDiag = px.openDiag
		log.Info("started the upstream server", "server", px.srv.String(), "pid", px.srv.Pid())
	}
	p, err := faultnet.NewProxy(*listen, *upstream, opts...)
	if err != nil {
		return err
	}
	defer p.Close()
	attrs := []any{"addr", p.Addr().String(), "upstream", *upstream}
	if len(faults) > 0 {
		attrs = append(attrs, "faults", faults.String())
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watch := startServerWatch(watchCtx, p, openDiag, log)
	defer watch.wait()
	defer stopWatch()
	if *control != "" {
		stop, url, err := serveControl(*control, p, watch, log)
		if err != nil {
			return err
		}
		defer stop()
		attrs = append(attrs, "control", url)
	}
	log.Info("proxying", attrs...)
	if px == nil {
		if err := probeUpstream(ctx, *upstream, *dialTO); err != nil {
			log.Warn("the upstream is not accepting connections yet: each client is reset until it does", "err", err)
		}
	}
	var exitErr error
	select {
	case <-ctx.Done():
	case <-px.exited():
		exitErr = fmt.Errorf("the upstream server exited: %v", px.srv.Err())
	}
	st := p.Stats()
	log.Info("stopped", "accepted", st.Accepted, "dial_errors", st.DialErrors)
	return exitErr
}

// checkLoopbackAddr returns an error unless addr is a loopback address.
func checkLoopbackAddr(addr string) error {
	if err := harness.CheckLoopback(addr); err != nil {
		return fmt.Errorf("%w: the proxy only serves and reaches this machine", err)
	}
	return nil
}

// probeUpstream dials the upstream once, so that a server that is not
// there yet is a warning at start, not only a reset for every client. The
// proxy starts anyway: it dials the upstream for each connection, so the
// server may come up after it.
func probeUpstream(ctx context.Context, addr string, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("upstream %s does not accept connections: %w", addr, err)
	}
	return c.Close()
}

// serveControl serves the control API on addr and returns a function that
// stops it, and the API's URL.
func serveControl(addr string, p *faultnet.Proxy, watch *serverWatch, log *slog.Logger) (stop func(), url string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("-control: %w", err)
	}
	hs := &http.Server{Handler: newControlAPI(p).watching(watch).handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("control API failed", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
		<-done
	}, "http://" + ln.Addr().String(), nil
}
