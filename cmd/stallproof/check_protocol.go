package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/protocols"
)

// checkProtocolHelp is check's help for the flags of this file.
const checkProtocolHelp = `
Built-in protocols (-protocol); resp, nats, mqtt and lines each have a
publisher and a subscriber role:

  v1      protocol v1 of the reference server (the default)
  resp    Redis pub/sub: PUBLISH answered by its integer, SUBSCRIBE greeted
  nats    NATS: PUB followed by PING, answered by PONG; SUB greeted by PONG
  mqtt    MQTT 3.1.1: PUBLISH (+PINGREQ at QoS 0, answered by PINGRESP;
          PUBACK at -qos 1); SUBSCRIBE greeted by SUBACK
  lines   SUB <topic> / PUB <topic> <payload> → OK, pushes MSG <topic> ...
  FILE    a protocol described in a file (see docs/protocol-file.md)

  -channel NAME      channel, subject or topic to subscribe and publish to
  -payload N         bytes per published payload
  -qos 0|1           MQTT publish QoS
  -user, -password   AUTH (resp), CONNECT user/pass (nats, mqtt)

What the server declares (the suite holds it to its declaration):

  -evict D           it closes a client whose writes block for D
  -drop N            it queues at most N bytes for a slow subscriber, then
                     drops messages or closes it
  -heap-per-stalled N  bytes of memory it may keep per stalled client
  -flood N           bytes a client may send without reading before the
                     server must push back or close it (default 16 MiB; a
                     server whose answers are a few bytes, as resp's and
                     nats's are, fills its socket send buffer only after
                     ~40 MiB of requests: give -flood 134217728)

Replaying and reports:

  -seed N            rapid's seed (a failure prints the one to replay)
  -run-all           run every property even after one found the server stuck
  -report-dir DIR    write each failure's report files under DIR (also
                     STALLPROOF_REPORT_DIR)
`

// protocolFlags are check's flags for protocols, declarations, replay and
// reports.
type protocolFlags struct {
	protocol, channel, user, password, reportDir string
	payload, qos, drop, heap, flood              int
	evict                                        time.Duration
	seed                                         uint64
	runAll                                       bool
}

func addProtocolFlags(fs *flag.FlagSet) *protocolFlags {
	f := &protocolFlags{}
	fs.StringVar(&f.protocol, "protocol", "v1", "`protocol`: v1, resp, nats, mqtt, lines, or a protocol file")
	fs.StringVar(&f.channel, "channel", protocols.DefaultChannel, "channel, subject or topic `name` (resp, nats, mqtt, lines)")
	fs.IntVar(&f.payload, "payload", protocols.DefaultPayload, "`bytes` per published payload (resp, nats, mqtt, lines)")
	fs.IntVar(&f.qos, "qos", 0, "MQTT publish QoS, 0 or 1")
	fs.StringVar(&f.user, "user", "", "`user` to authenticate as (resp, nats, mqtt)")
	fs.StringVar(&f.password, "password", "", "`password` to authenticate with (resp, nats, mqtt)")
	fs.DurationVar(&f.evict, "evict", 0, "declare: the server closes a client whose writes block for `duration`")
	fs.IntVar(&f.drop, "drop", 0, "declare: the server queues at most `bytes` for a slow subscriber, then drops messages or closes it")
	fs.IntVar(&f.heap, "heap-per-stalled", 0, "declare: `bytes` of memory the server may keep per stalled client")
	fs.IntVar(&f.flood, "flood", 0, "`bytes` a client may send without reading before the server must push back or close it (default 16 MiB)")
	fs.Uint64Var(&f.seed, "seed", 0, "rapid's `seed` (0: a random one); a failure prints the seed that replays it")
	fs.BoolVar(&f.runAll, "run-all", false, "run every property even after one found the server stuck")
	fs.StringVar(&f.reportDir, "report-dir", os.Getenv("STALLPROOF_REPORT_DIR"), "write each failure's report files under `dir` (default $STALLPROOF_REPORT_DIR)")
	return f
}

// builtin returns the protocol -protocol names, or ok false for v1 or a
// file.
func (f *protocolFlags) builtin() (properties.Protocol, bool) {
	var opts []protocols.Option
	if f.channel != protocols.DefaultChannel {
		opts = append(opts, protocols.Channel(f.channel))
	}
	if f.payload != protocols.DefaultPayload {
		opts = append(opts, protocols.Payload(f.payload))
	}
	if f.user != "" || f.password != "" {
		opts = append(opts, protocols.Auth(f.user, f.password))
	}
	switch f.protocol {
	case "resp":
		return protocols.RESP(opts...), true
	case "nats":
		return protocols.NATS(opts...), true
	case "mqtt":
		if f.qos != 0 {
			opts = append(opts, protocols.QoS(f.qos))
		}
		return protocols.MQTT(opts...), true
	case "lines":
		return protocols.Lines(opts...), true
	}
	return properties.Protocol{}, false
}

// options checks the flags and returns the suite's options they make;
// lineProtocol is set when -request describes a line protocol.
func (f *protocolFlags) options(fs *flag.FlagSet, lineProtocol bool) ([]properties.Option, error) {
	var opts []properties.Option
	switch {
	case f.qos != 0 && f.qos != 1:
		return nil, flagError(fs, "-qos", "want 0 or 1, got %d", f.qos)
	case f.payload < 0, f.drop < 0, f.heap < 0, f.flood < 0, f.evict < 0:
		return nil, flagError(fs, "-payload, -drop, -heap-per-stalled, -flood, -evict", "want 0 or more")
	case f.evict > 0 && f.drop > 0:
		return nil, flagError(fs, "-evict, -drop", "a server declares one slow-consumer policy: give one")
	case lineProtocol && f.protocol != "v1":
		return nil, flagError(fs, "-protocol, -request", "-request describes a line protocol itself: give one of them")
	}
	if p, ok := f.builtin(); ok {
		opts = append(opts, properties.WithProtocol(p))
	} else if f.protocol != "v1" {
		p, err := loadProtocolFile(f.protocol)
		if err != nil {
			return nil, flagError(fs, "-protocol", "%v", err)
		}
		opts = append(opts, properties.WithProtocol(p))
	}
	switch {
	case f.evict > 0:
		opts = append(opts, properties.SlowConsumers(properties.Evict(f.evict)))
	case f.drop > 0:
		opts = append(opts, properties.SlowConsumers(properties.Drop(f.drop)))
	}
	if f.heap > 0 {
		opts = append(opts, properties.HeapPerStalledClient(f.heap))
	}
	if f.flood > 0 {
		opts = append(opts, properties.FloodBytes(f.flood))
	}
	if f.runAll {
		opts = append(opts, properties.RunAll())
	}
	if f.reportDir != "" {
		if err := checkOutDir(f.reportDir); err != nil {
			return nil, flagError(fs, "-report-dir", "%v", err)
		}
		opts = append(opts, properties.ReportDir(f.reportDir))
	}
	if f.seed != 0 {
		if err := flag.CommandLine.Set("rapid.seed", fmt.Sprint(f.seed)); err != nil {
			return nil, flagError(fs, "-seed", "%v", err)
		}
	}
	opts = append(opts, properties.Hints("-run-all", replayCommand(fs)))
	return opts, nil
}

// replayCommand returns the check command that replays one property's
// failure: the flags given, but -props, -seed and -run-all, then those.
func replayCommand(fs *flag.FlagSet) func(property string, seed uint64) string {
	var args []string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "props", "seed", "run-all", "report-dir":
			return
		}
		args = append(args, fmt.Sprintf("-%s=%s", fl.Name, shellQuote(fl.Value.String())))
	})
	return func(property string, seed uint64) string {
		return strings.Join(append([]string{"stallproof check"}, append(args, "-props="+property, fmt.Sprintf("-seed=%d", seed))...), " ")
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,=+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
