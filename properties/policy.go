package properties

import (
	"fmt"
	"time"
)

// A SlowConsumerPolicy declares what the server does with a client that
// stops reading while the server has things to send it. The bounded and
// delivery properties hold the server to its declaration: a server at
// NATS-like limits passes when it declares them, and fails when it goes
// past its own declaration.
//
// The default, strict, is [PushBack] with no heap allowance: a stalled
// client may cost the server only what it already holds (a conflating
// mailbox, a fixed buffer), and a client that floods requests without
// reading replies is evicted or pushed back within FloodBytes.
type SlowConsumerPolicy struct {
	action    policyAction
	within    time.Duration // evict: closed within this after it stalls
	maxQueued int           // drop: bytes queued per client at most
	maxMsgs   int           // drop: messages queued per client at most
}

type policyAction int

const (
	pushBack policyAction = iota
	evict
	drop
)

// Evict declares that the server closes a client that stopped reading
// within d of its writes blocking (NATS: a 10 s write deadline). The
// bounded property then waits up to d plus the bound for the close, in
// its first check (and every check once one failed), of stalled
// subscribers and of a client that floods requests without reading, both
// at once; and the delivery property accepts a stalled subscriber that is
// closed.
func Evict(d time.Duration) SlowConsumerPolicy {
	return SlowConsumerPolicy{action: evict, within: d}
}

// PushBack declares that the server keeps a stalled client's connection
// and bounds what it holds for it: a conflating mailbox, a fixed buffer,
// blocking only that client's own writer. A stalled subscriber that
// resumes must catch up.
func PushBack() SlowConsumerPolicy { return SlowConsumerPolicy{action: pushBack} }

// Drop declares that the server drops messages for a client that does not
// keep up (MQTT QoS 0, a chat hub's full channel), queueing at most
// maxQueued bytes for it. A stalled subscriber that resumes must receive
// pushes again, or be told it was dropped (an ErrorReply message or a close).
func Drop(maxQueued int) SlowConsumerPolicy {
	return SlowConsumerPolicy{action: drop, maxQueued: maxQueued}
}

// DropMessages is Drop with the queue's limit in messages, as a broker
// documents it (mosquitto's max_queued_messages, say): the bounded
// property converts it to bytes with the size of the pushes a healthy
// subscriber receives in the same check.
func DropMessages(n int) SlowConsumerPolicy {
	return SlowConsumerPolicy{action: drop, maxMsgs: n}
}

func (p SlowConsumerPolicy) String() string {
	switch p.action {
	case evict:
		return fmt.Sprintf("Evict(%v)", p.within)
	case drop:
		if p.maxMsgs > 0 {
			return fmt.Sprintf("DropMessages(%d)", p.maxMsgs)
		}
		return fmt.Sprintf("Drop(%d)", p.maxQueued)
	}
	return "PushBack()"
}

// SlowConsumers declares the server's slow-consumer policy (default
// PushBack()).
func SlowConsumers(p SlowConsumerPolicy) Option {
	return option(fmt.Sprintf("SlowConsumers(%v)", p), func(c *config) { c.policy = p })
}

// HeapPerStalledClient allows the server n bytes of heap for each stalled
// client on top of the bounded property's slack (default 0): the
// buffers a server legitimately keeps per slow client, up to its declared
// limit (a 64 MiB pending limit, say). The limit it declares is the limit
// it is held to.
func HeapPerStalledClient(n int) Option {
	return option(fmt.Sprintf("HeapPerStalledClient(%d)", n), func(c *config) { c.heapPerStalled = max(n, 0) })
}
