package protocols_test

import (
	"testing"

	"github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/protocols"
)

// brokers are the package's in-process servers, correct and broken, with
// the protocol each speaks; the Examples' test code runs against them.
var brokers = []struct {
	name          string
	serve, broken properties.ServeFunc
	proto         properties.Protocol
}{
	{"RESP", broker.ServeRESP, broker.ServeRESPBroken, protocols.RESP(protocols.Channel("news"))},
	{"NATS", broker.ServeNATS, broker.ServeNATSBroken, protocols.NATS(protocols.Channel("updates"))},
	{"MQTT", broker.ServeMQTT, broker.ServeMQTTBroken, protocols.MQTT(protocols.Channel("sensors/1"), protocols.QoS(1))},
	{"MQTTQoS0", broker.ServeMQTT, broker.ServeMQTTBroken, protocols.MQTT(protocols.Channel("sensors/1"))},
	{"Lines", broker.ServeLines, broker.ServeLinesBroken, protocols.Lines(protocols.Channel("chat"))},
}

// brokerPolicy is what the brokers declare: a subscriber that falls
// MaxPending bytes behind is disconnected, and each holds up to that much.
var brokerPolicy = []properties.Option{
	properties.SlowConsumers(properties.Drop(broker.MaxPending)),
	properties.HeapPerStalledClient(broker.MaxPending),
}

// TestExamples runs the Examples' test code: the whole suite against each
// correct broker, which must pass; with realChecks checks per property,
// to keep the package's tests near a minute (-rapid.checks=20 gives the
// default).
func TestExamples(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			opts := append(brokerPolicy, properties.WithProtocol(b.proto), properties.Checks(realChecks))
			if b.name == "MQTTQoS0" { // no Example: the PINGREQ reply, checked on the two liveness properties it changes
				opts = append(opts, properties.Properties("progress", "delivery"))
			}
			properties.Run(t, b.serve, opts...)
		})
	}
}
