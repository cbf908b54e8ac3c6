package sockdiag

import (
	"context"
	"net/netip"
	"time"
)

// DefaultPoll is WaitWriteBlocked's interval between lookups when it is
// given none.
const DefaultPoll = 5 * time.Millisecond

// WaitWriteBlocked looks up the socket local->remote every poll (DefaultPoll
// if poll <= 0), one exact lookup each time, until a writer to it would
// block (Socket.WriteBlocked) and returns that Socket. When ctx ends first
// it returns the last Socket seen and ctx's error; when the socket is gone
// or the lookup fails, the lookup's error (ErrNotFound: it was closed).
func (c *Conn) WaitWriteBlocked(ctx context.Context, local, remote netip.AddrPort, poll time.Duration) (Socket, error) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	var tick *time.Ticker
	for {
		s, err := c.Lookup(local, remote)
		if err != nil || s.WriteBlocked() {
			return s, err
		}
		if tick == nil {
			tick = time.NewTicker(poll)
			defer tick.Stop()
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-tick.C:
		}
	}
}
