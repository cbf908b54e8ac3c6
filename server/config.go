package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// Defaults for the zero Config. Every limit and timeout has a real value:
// a zero or negative field means "use the default", never "no limit".
const (
	DefaultMaxConns      = 10_000
	DefaultWriteTimeout  = 10 * time.Second
	DefaultLineTimeout   = 30 * time.Second
	DefaultMaxReplyBytes = 256 << 10
	DefaultDrainTimeout  = 1 * time.Second

	DefaultBroadcastInterval = 5 * time.Millisecond
)

// DefaultOptions are the options offered when Config.Options is empty.
var DefaultOptions = []string{"red", "green", "blue"}

// Config configures a Server. The zero value is safe and sensible.
type Config struct {
	// Options are the options a client may vote for, in HELLO order:
	// 1 to 64 distinct names of 1 to 32 bytes of [a-z0-9_-].
	// Empty means DefaultOptions.
	Options []string

	// MaxConns is the number of clients served at once. One more is told
	// "ERR busy" and closed. Default DefaultMaxConns.
	MaxConns int

	// WriteTimeout bounds one write to a client. A client that does not
	// take a batch of lines within it is a slow consumer and is evicted.
	// Default DefaultWriteTimeout (10 s, like NATS).
	WriteTimeout time.Duration

	// LineTimeout bounds the time from the first byte of a line to its
	// terminator (slowloris). An idle client between lines is not timed
	// out. Default DefaultLineTimeout.
	LineTimeout time.Duration

	// MaxReplyBytes caps the replies queued for one client and not yet
	// written. A client whose queue would exceed it is evicted. Pushed
	// tallies are not queued (each client holds at most one, the newest),
	// so they never count against it. Default DefaultMaxReplyBytes.
	MaxReplyBytes int

	// DrainTimeout bounds how long Shutdown, and Serve after its context
	// is done, spend flushing replies to clients before closing them.
	// Default DefaultDrainTimeout.
	DrainTimeout time.Duration

	// BroadcastInterval is the least time between two pushed tallies:
	// votes counted meanwhile are coalesced into the next one. A vote after
	// a quiet spell is pushed at once; under load, each client receives at
	// most one tally per interval, so the broadcast costs clients × (1 s /
	// interval) writes a second however fast votes come. Default
	// DefaultBroadcastInterval (5 ms); negative means no pacing: a tally
	// after every change, as fast as the broadcaster runs.
	BroadcastInterval time.Duration

	// Logger receives the server's structured logs: evictions (once per
	// client), accept errors, refused connections. Nil discards them: a
	// library does not write to the process's default logger unasked.
	Logger *slog.Logger
}

// settings is a Config with every default filled in.
type settings struct {
	options       []string
	maxConns      int
	writeTimeout  time.Duration
	lineTimeout   time.Duration
	maxReplyBytes int
	drainTimeout  time.Duration
	pace          time.Duration // 0: no pacing
	log           *slog.Logger
}

func (c Config) settings() (settings, error) {
	s := settings{
		options:       append([]string(nil), c.Options...),
		maxConns:      c.MaxConns,
		writeTimeout:  c.WriteTimeout,
		lineTimeout:   c.LineTimeout,
		maxReplyBytes: c.MaxReplyBytes,
		drainTimeout:  c.DrainTimeout,
		pace:          c.BroadcastInterval,
		log:           c.Logger,
	}
	if len(s.options) == 0 {
		s.options = append([]string(nil), DefaultOptions...)
	}
	if err := wire.ValidateOptions(s.options); err != nil {
		return settings{}, fmt.Errorf("server: %w", err)
	}
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConns
	}
	if s.writeTimeout <= 0 {
		s.writeTimeout = DefaultWriteTimeout
	}
	if s.lineTimeout <= 0 {
		s.lineTimeout = DefaultLineTimeout
	}
	if s.maxReplyBytes <= 0 {
		s.maxReplyBytes = DefaultMaxReplyBytes
	}
	if s.drainTimeout <= 0 {
		s.drainTimeout = DefaultDrainTimeout
	}
	switch {
	case s.pace == 0:
		s.pace = DefaultBroadcastInterval
	case s.pace < 0:
		s.pace = 0
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}
