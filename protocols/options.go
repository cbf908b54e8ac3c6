package protocols

import (
	"fmt"
	"strings"
)

// An Option configures one of the built-in protocols: what its clients
// subscribe to and publish, how large a payload is, how they authenticate.
// Options print as the code that made them, so a shrunk counterexample
// that names the protocol reads as code. An option that a protocol has no
// use for (QoS for RESP) is ignored.
type Option interface {
	apply(*config)
	String() string
}

// config is what the options set; defaults are set in newConfig, in one
// place.
type config struct {
	channel  string
	payload  int
	user     string
	password string
	qos      byte
	clientID string
	words    LineWords
	opts     []string // the options, printed, for the protocol's Name
}

// Defaults of the built-in protocols.
const (
	// DefaultChannel is the channel (RESP), subject (NATS), topic (MQTT,
	// Lines) clients subscribe and publish to.
	DefaultChannel = "stallproof"
	// DefaultPayload is the size in bytes of a published message's
	// payload.
	DefaultPayload = 16
	// DefaultClientID prefixes MQTT client identifiers.
	DefaultClientID = "stallproof"
)

func newConfig(opts []Option) config {
	c := config{
		channel:  DefaultChannel,
		payload:  DefaultPayload,
		clientID: DefaultClientID,
		words:    LineWords{Sub: "SUB", Pub: "PUB", Msg: "MSG", OK: "OK", Err: "ERR"},
	}
	for _, o := range opts {
		o.apply(&c)
		c.opts = append(c.opts, o.String())
	}
	return c
}

// name is a protocol's Name: its own, then its options.
func (c *config) name(proto string) string {
	if len(c.opts) == 0 {
		return proto
	}
	return proto + " " + strings.Join(c.opts, ", ")
}

// payloadFor is the n-th payload of client id: the client and request
// numbers, padded with "x" to the configured size (never shorter than the
// numbers). Printable, with no space, so every protocol can carry it.
func (c *config) payloadFor(id, n int) []byte {
	b := fmt.Appendf(nil, "c%d-%d", id, n)
	for len(b) < c.payload {
		b = append(b, 'x')
	}
	return b
}

type option struct {
	f    func(*config)
	desc string
}

func (o option) apply(c *config) { o.f(c) }
func (o option) String() string  { return o.desc }

// Channel sets the channel (RESP), subject (NATS) or topic (MQTT, Lines)
// that subscribers subscribe to and publishers publish to (default
// DefaultChannel). It must be a valid name in the protocol: no spaces, and
// for NATS and MQTT no wildcard.
func Channel(name string) Option {
	return option{func(c *config) { c.channel = name }, fmt.Sprintf("Channel(%q)", name)}
}

// Payload sets the size in bytes of each published payload (default
// DefaultPayload). A payload holds the publishing client's number and the
// request's, so it is never shorter than those.
func Payload(n int) Option {
	return option{func(c *config) { c.payload = max(n, 0) }, fmt.Sprintf("Payload(%d)", n)}
}

// Auth makes every client authenticate: RESP sends AUTH (with user unless
// it is empty) before anything else; NATS puts user and pass in its
// CONNECT; MQTT puts them in its CONNECT packet. Lines ignores it.
func Auth(user, password string) Option {
	return option{func(c *config) { c.user, c.password = user, password }, fmt.Sprintf("Auth(%q, %q)", user, "***")}
}

// QoS sets the quality of service of MQTT publishes: 0 (default) or 1.
// Subscribers always subscribe at QoS 0: the suite's subscribers do not
// acknowledge what they receive, and a QoS 1 subscription would stop once
// the broker's in-flight window fills.
func QoS(q int) Option {
	return option{func(c *config) { c.qos = byte(min(max(q, 0), 1)) }, fmt.Sprintf("QoS(%d)", q)}
}

// ClientID sets the prefix of MQTT client identifiers (default
// DefaultClientID); each client's identifier is the prefix, a number for
// the protocol value, and the client's number.
func ClientID(prefix string) Option {
	return option{func(c *config) { c.clientID = prefix }, fmt.Sprintf("ClientID(%q)", prefix)}
}

// LineWords are the words of a line pub/sub protocol ([Lines]); an empty
// field keeps its default. As an Option it prints as a composite literal
// of the fields it sets.
type LineWords struct {
	Sub string // a client subscribes: "SUB <topic>" (default "SUB")
	Pub string // a client publishes: "PUB <topic> <payload>" (default "PUB")
	Msg string // the server pushes: "MSG <topic> <payload>" (default "MSG")
	OK  string // the server answers SUB and PUB: "OK" (default "OK"); a line that starts with it
	Err string // the server refuses: "ERR <reason>" (default "ERR"); a line that starts with it
}

func (w LineWords) apply(c *config) {
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&c.words.Sub, w.Sub}, {&c.words.Pub, w.Pub}, {&c.words.Msg, w.Msg}, {&c.words.OK, w.OK}, {&c.words.Err, w.Err},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
}

func (w LineWords) String() string {
	var fs []string
	for _, f := range []struct{ k, v string }{{"Sub", w.Sub}, {"Pub", w.Pub}, {"Msg", w.Msg}, {"OK", w.OK}, {"Err", w.Err}} {
		if f.v != "" {
			fs = append(fs, fmt.Sprintf("%s: %q", f.k, f.v))
		}
	}
	return "LineWords{" + strings.Join(fs, ", ") + "}"
}
