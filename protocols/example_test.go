package protocols_test

import (
	"fmt"
	"testing"

	"github.com/stallproof/stallproof/internal/broker"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/protocols"
)

// A Redis-protocol pub/sub server under test: put your server's Serve
// where broker.ServeRESP is (TestExamples runs this one). The broker
// disconnects a subscriber that falls MaxPending bytes behind: it declares
// so.
func ExampleRESP() {
	TestMyRedis := func(t *testing.T) {
		properties.Run(t, broker.ServeRESP,
			properties.WithProtocol(protocols.RESP(protocols.Channel("news"))),
			properties.SlowConsumers(properties.Drop(broker.MaxPending)),
			properties.HeapPerStalledClient(broker.MaxPending))
	}
	_ = TestMyRedis

	p := protocols.RESP(protocols.Channel("news"), protocols.Payload(8))
	fmt.Printf("%s: %q\n", p.Name, p.Roles[0].Request(1, 0))
	// Output:
	// RESP Channel("news"), Payload(8): "*3\r\n$7\r\nPUBLISH\r\n$4\r\nnews\r\n$8\r\nc1-0xxxx\r\n"
}

// A NATS server under test; NATS acknowledges no publish, so each PUB is
// followed by a PING, whose PONG is the reply.
func ExampleNATS() {
	TestMyNATS := func(t *testing.T) {
		properties.Run(t, broker.ServeNATS,
			properties.WithProtocol(protocols.NATS(protocols.Channel("updates"))),
			properties.SlowConsumers(properties.Drop(broker.MaxPending)),
			properties.HeapPerStalledClient(broker.MaxPending))
	}
	_ = TestMyNATS

	p := protocols.NATS(protocols.Channel("updates"), protocols.Payload(4))
	fmt.Printf("%s: %q\n", p.Name, p.Roles[0].Request(1, 0))
	// Output:
	// NATS Channel("updates"), Payload(4): "PUB updates 4\r\nc1-0\r\nPING\r\n"
}

// An MQTT 3.1.1 broker under test, publishing at QoS 1 (the PUBACK is the
// reply; at QoS 0, a PINGREQ follows each PUBLISH and its PINGRESP is).
func ExampleMQTT() {
	TestMyBroker := func(t *testing.T) {
		properties.Run(t, broker.ServeMQTT,
			properties.WithProtocol(protocols.MQTT(protocols.Channel("sensors/1"), protocols.QoS(1))),
			properties.SlowConsumers(properties.Drop(broker.MaxPending)),
			properties.HeapPerStalledClient(broker.MaxPending))
	}
	_ = TestMyBroker

	p := protocols.MQTT(protocols.Channel("t"), protocols.Payload(4))
	fmt.Printf("%s: % x\n", p.Name, p.Roles[0].Request(1, 0))
	// Output:
	// MQTT 3.1.1 Channel("t"), Payload(4): 30 07 00 01 74 63 31 2d 30 c0 00
}

// A line pub/sub server under test, with the default words: SUB, PUB,
// MSG, OK, ERR. LineWords changes them.
func ExampleLines() {
	TestMyServer := func(t *testing.T) {
		properties.Run(t, broker.ServeLines,
			properties.WithProtocol(protocols.Lines(protocols.Channel("chat"))),
			properties.SlowConsumers(properties.Drop(broker.MaxPending)),
			properties.HeapPerStalledClient(broker.MaxPending))
	}
	_ = TestMyServer

	words := protocols.LineWords{Sub: "SUBSCRIBE", Pub: "PUBLISH", Msg: "MESSAGE", OK: "+OK", Err: "-ERR"}
	p := protocols.Lines(words, protocols.Payload(4))
	fmt.Printf("%s: %q\n", p.Name, p.Roles[0].Request(1, 0))
	// Output:
	// lines LineWords{Sub: "SUBSCRIBE", Pub: "PUBLISH", Msg: "MESSAGE", OK: "+OK", Err: "-ERR"}, Payload(4): "PUBLISH stallproof c1-0\n"
}
