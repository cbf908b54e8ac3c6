package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/sockdiag"
)

// serverWatch looks, through the kernel (sock_diag, Linux), at the
// server's end of every proxied connection, and notes when the server's
// writes to it block: the moment a stalled client (StallReads() on the
// upstream leg) has cost the server its Write. A user then knows when the
// server began to block, not only that the proxy stopped reading.
type serverWatch struct {
	p    *faultnet.Proxy
	diag *sockdiag.Conn
	log  *slog.Logger

	mu    sync.Mutex
	conns map[uint64]*watched
	done  chan struct{}
}

// watched is what the watch knows of one connection.
type watched struct {
	stuck   sockdiag.StuckWriter // the looks at its server end
	blocked *serverBlocked       // once its writer was stuck
}

// serverBlocked is a server-blocked event of a proxied connection.
type serverBlocked struct {
	At         time.Time `json:"at"`
	Queued     int       `json:"queued"`      // bytes the server's socket holds against its send buffer
	SendBuffer int       `json:"send_buffer"` // the server's socket's send buffer
	Window     uint32    `json:"window"`      // the window the proxy advertises to the server
}

func (b serverBlocked) String() string {
	return fmt.Sprintf("server-blocked: %d bytes queued, sndbuf %d, window %d", b.Queued, b.SendBuffer, b.Window)
}

const (
	// watchEvery is how often the watch looks at every connection.
	watchEvery = 20 * time.Millisecond
)

// startServerWatch starts watching p's connections until ctx ends. Where
// the kernel's view is not available it logs why once and returns nil: a
// nil *serverWatch reports nothing.
// open opens the sock_diag socket in the upstream's network namespace
// (nil: this one).
func startServerWatch(ctx context.Context, p *faultnet.Proxy, open func() (*sockdiag.Conn, error), log *slog.Logger) *serverWatch {
	if open == nil {
		open = sockdiag.Open
	}
	d, err := open()
	if err != nil {
		log.Info("no server-blocked events: the kernel's view of sockets is not available", "err", err)
		return nil
	}
	w := &serverWatch{p: p, diag: d, log: log, conns: map[uint64]*watched{}, done: make(chan struct{})}
	go w.loop(ctx)
	return w
}

// wait waits for the watch to stop, after its context ended.
func (w *serverWatch) wait() {
	if w != nil {
		<-w.done
	}
}

func (w *serverWatch) loop(ctx context.Context) {
	defer close(w.done)
	defer w.diag.Close()
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.look()
	}
}

// look looks once at every live connection.
func (w *serverWatch) look() {
	live := map[uint64]bool{}
	for _, pc := range w.p.Conns() {
		live[pc.ID()] = true
		up := pc.Leg(faultnet.UpstreamLeg).Unwrap()
		if up == nil {
			continue
		}
		local, remote := sockdiag.ServerSide(up)
		s, err := w.diag.Lookup(local, remote)
		w.mu.Lock()
		st := w.conns[pc.ID()]
		if st == nil {
			st = &watched{}
			w.conns[pc.ID()] = st
		}
		switch {
		case st.blocked != nil:
		case err != nil:
			st.stuck.Lost()
		case st.stuck.Saw(s, time.Now()):
			st.blocked = &serverBlocked{At: time.Now(), Queued: s.WriteQueued, SendBuffer: s.SendBuffer, Window: s.PeerWindow}
			w.log.Info("server-blocked", "conn", pc.ID(), "upstream_local", up.LocalAddr().String(), "queued", s.WriteQueued, "send_buffer", s.SendBuffer, "window", s.PeerWindow)
		}
		w.mu.Unlock()
	}
	w.mu.Lock()
	for id := range w.conns {
		if !live[id] {
			delete(w.conns, id)
		}
	}
	w.mu.Unlock()
}

// blocked returns connection id's server-blocked event, if any.
func (w *serverWatch) blocked(id uint64) *serverBlocked {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if st := w.conns[id]; st != nil && st.blocked != nil {
		b := *st.blocked
		return &b
	}
	return nil
}
