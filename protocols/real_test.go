package protocols_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/protocols"
)

// The real servers run with realChecks checks per property (a quarter of
// the default), and bounded, whose flood sends tens of megabytes a check,
// with boundedChecks, to keep the package's tests near a minute with
// -race; -rapid.checks=20 gives the default to all. Each server declares
// the limits it documents, and says which of them the suite needed.
const (
	realChecks    = 5
	boundedChecks = 2
)

// runReal runs every property that applies to a server in another process
// against addr: the liveness properties, then bounded.
func runReal(t *testing.T, addr string, opts ...properties.Option) {
	t.Helper()
	properties.RunAddr(t, addr, append(opts, properties.Checks(realChecks), properties.Properties("progress", "delivery", "isolation"))...)
	properties.RunAddr(t, addr, append(opts, properties.Checks(boundedChecks), properties.Properties("bounded"))...)
}

// realFlood is FloodBytes for a broker whose answer to a publish is a few
// bytes (":1", PONG, PINGRESP) for a request ten times as long: its
// socket send buffer alone absorbs ~4 MiB of answers, ~40 MiB of
// requests, before its writes block at all. A broker that evicts the
// flooder ends the flood there: the allowance costs time only to a broker
// that fails.
const realFlood = 128 << 20

// TestRedis runs the suite against redis-server with its defaults but
// two:
//
//   - client-output-buffer-limit normal 1mb 0 0. Redis's default for
//     normal clients is no limit: a publisher that never reads its
//     replies is read in full and its replies are buffered without bound
//     (the bounded property fails on that, rightly). With a limit, Redis
//     closes it (measured: after ~51 MB of PUBLISHes).
//   - no persistence (--save ” --appendonly no).
//
// Declared: a subscriber is closed once 32 MiB are queued for it (the
// default client-output-buffer-limit pubsub 32mb 8mb 60: Drop and
// HeapPerStalledClient of 32 MiB; the soft limit would close it after 60
// s over 8 MiB, longer than any check), and the flood allowance.
func TestRedis(t *testing.T) {
	addr := realServer(t, "redis-server", func(port int, _ string) []string {
		return []string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--client-output-buffer-limit", "normal 1mb 0 0"}
	})
	runReal(t, addr, properties.WithProtocol(protocols.RESP()),
		properties.SlowConsumers(properties.Drop(32<<20)),
		properties.HeapPerStalledClient(32<<20),
		properties.FloodBytes(realFlood))
}

// natsWriteDeadline is the write_deadline the test gives nats-server
// (default 10 s): NATS reads a client that does not read its PONGs at
// full speed (measured: 176 MB in 2.5 s over loopback) and closes it as a
// slow consumer only once a write has blocked this long. A shorter
// deadline keeps the flood the suite sends within realFlood.
const natsWriteDeadline = 500 * time.Millisecond

// TestNATSServer runs the suite against nats-server with write_deadline
// set to natsWriteDeadline. Declared: Drop(max_pending) and
// HeapPerStalledClient(max_pending) (64 MiB, the default: a subscriber
// with more pending is closed as a slow consumer), and the flood
// allowance. Evict(write_deadline) is not declared: NATS closes a client
// only once a write has blocked that long, and a stalled subscriber's
// socket send buffer takes megabytes before it does, so within a check
// NATS keeps the subscriber (measured: "not evicted within 2.5s" when
// declared).
func TestNATSServer(t *testing.T) {
	addr := realServer(t, "nats-server", func(port int, dir string) []string {
		conf := writeFile(t, dir, "nats.conf", fmt.Sprintf("write_deadline: %q", natsWriteDeadline.String()))
		return []string{"-a", "127.0.0.1", "-p", fmt.Sprint(port), "-c", conf}
	})
	runReal(t, addr, properties.WithProtocol(protocols.NATS()),
		properties.SlowConsumers(properties.Drop(64<<20)),
		properties.HeapPerStalledClient(64<<20),
		properties.FloodBytes(realFlood))
}

// mosquittoQueued is what mosquitto queues for one subscriber at most:
// max_queued_messages (1000, the default) of the suite's PUBLISH packets
// (topic and default payload: 32 bytes).
const mosquittoQueued = 1000 * 32

// TestMosquitto runs the suite against mosquitto with its defaults (a
// listener on the port, anonymous clients, no persistence). Declared:
// Drop(max_queued_messages) (it drops QoS 0 messages for a subscriber
// that falls behind: "Outgoing messages are being dropped").
//
// The bounded property is not run: mosquitto keeps reading a client that
// never reads its PINGRESPs, slowly (measured: 400 MB in 190 s, ~2 MB/s,
// its RSS flat at 2.1 MB throughout), so its memory stays bounded, but
// its reads never stop for the 250 ms the flood check waits for, and over
// another process the suite cannot see its heap to tell that throttling
// from a queue without bound.
func TestMosquitto(t *testing.T) {
	addr := realServer(t, "mosquitto", func(port int, dir string) []string {
		conf := writeFile(t, dir, "mosquitto.conf",
			fmt.Sprintf("listener %d 127.0.0.1", port), "allow_anonymous true", "persistence false")
		return []string{"-c", conf}
	})
	properties.RunAddr(t, addr, properties.WithProtocol(protocols.MQTT()), properties.Checks(realChecks),
		properties.Properties("progress", "delivery", "isolation"),
		properties.SlowConsumers(properties.Drop(mosquittoQueued)))
}
