package server

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	set, err := Config{}.settings()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(set.options, ",") != "red,green,blue" || set.maxConns != DefaultMaxConns ||
		set.writeTimeout != DefaultWriteTimeout || set.lineTimeout != DefaultLineTimeout ||
		set.maxReplyBytes != DefaultMaxReplyBytes || set.drainTimeout != DefaultDrainTimeout || set.log == nil {
		t.Fatalf("zero Config: %+v", set)
	}
	neg, err := Config{MaxConns: -1, WriteTimeout: -time.Second, LineTimeout: -1, MaxReplyBytes: -1, DrainTimeout: -1}.settings()
	if err != nil || neg.maxConns != DefaultMaxConns || neg.writeTimeout != DefaultWriteTimeout ||
		neg.lineTimeout != DefaultLineTimeout || neg.maxReplyBytes != DefaultMaxReplyBytes || neg.drainTimeout != DefaultDrainTimeout {
		t.Fatalf("negative Config: %+v %v", neg, err)
	}
	// New copies the options: the caller's slice is not retained.
	opts := []string{"a", "b"}
	s := newServer(t, Config{Options: opts})
	opts[0] = "z"
	if got := s.Options(); got[0] != "a" {
		t.Fatalf("options changed through the caller's slice: %q", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]string{{"a", "a"}, {"Red"}, {"a b"}, {strings.Repeat("x", 33)}, make([]string, 65)} {
		if _, err := New(Config{Options: opts}); err == nil {
			t.Errorf("New accepted options %q", opts)
		}
	}
}

// records is a slog.Handler that keeps every record.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// count returns how many records have msg and attribute reason=why.
func (h *records) count(msg, why string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Message != msg {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "reason" && a.Value.String() == why {
				n++
			}
			return true
		})
	}
	return n
}

func TestEvictionLoggedOnce(t *testing.T) {
	t.Parallel()
	logs := &records{}
	e := start(t, transports[0], Config{Options: longOptions(), WriteTimeout: 20 * time.Millisecond, Logger: slog.New(logs)}, nil)
	c := e.dial(t)
	stall(c)
	v := e.dial(t)
	voteUntil(t, v, v.Options()[0], "stalled client evicted", func() bool { return e.s.Stats().Evictions.WriteTimeout > 0 })
	eventually(t, "evicted client released", func() bool { return e.s.Stats().Connections == 1 })
	if n := logs.count("client closed", "write-timeout"); n != 1 {
		t.Fatalf("%d log records for one eviction, want 1", n)
	}
}
