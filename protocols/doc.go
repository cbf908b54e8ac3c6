// Package protocols describes the pub/sub protocols people run, for the
// property suite of package properties: [RESP] (Redis), [NATS], [MQTT]
// 3.1.1 and [Lines] (a line pub/sub whose words you choose). Each returns a
// [properties.Protocol] with a "publisher" and a "subscriber" role, ready
// for properties.WithProtocol:
//
//	properties.Run(t, myredis.Serve, properties.WithProtocol(protocols.RESP()))
//	properties.RunAddr(t, "127.0.0.1:6379", properties.WithProtocol(protocols.RESP(protocols.Channel("news"))))
//
// # One reply per request
//
// The suite expects exactly one answer to each request. Where a protocol
// acknowledges a publish (RESP's integer reply, MQTT QoS 1's PUBACK, a line
// protocol's OK), that is the answer. Where it acknowledges nothing, the
// request is the publish followed by a ping, and the ping's answer is the
// reply: NATS sends PUB then PING, and PONG answers; MQTT QoS 0 sends
// PUBLISH then PINGREQ, and PINGRESP answers. A server handles one
// connection's messages in order, so the answer comes once the publish is
// processed. A subscriber's greeting is likewise the proof its
// subscription is in place: RESP's subscribe confirmation, NATS's PONG to
// a PING sent after SUB, MQTT's SUBACK, the line protocol's OK.
//
// # Framing
//
// The framing of each protocol is exported as a [bufio.SplitFunc], for
// your own clients and tests too: [SplitRESP] (one RESP value a token),
// [SplitNATS] (a MSG with its payload is one token), [SplitMQTT] (one
// control packet a token). Lines uses the suite's default, lines.
//
// # Options
//
// [Channel] (channel, subject, topic), [Payload] (bytes per publish),
// [Auth] (AUTH, CONNECT user and password), [QoS] (MQTT), [ClientID]
// (MQTT), [LineWords] (Lines). Options print as code, and the protocol's
// Name lists the ones given.
//
// # Declaring a server's limits
//
// A broker that drops or evicts slow consumers declares it with the
// properties options SlowConsumers, HeapPerStalledClient and FloodBytes;
// this package's tests run redis-server, nats-server and mosquitto with
// theirs, and say which each needed and why (real_test.go). A broker in
// another process whose answer to a publish is a few bytes (":1", PONG,
// PINGRESP) lets its socket send buffer absorb tens of megabytes of a
// flooding client's requests before its writes block: declare
// FloodBytes(128 << 20) for RunAddr.
//
// # From the command line
//
// stallproof check -addr HOST:PORT -protocol resp|nats|mqtt|lines, with
// -channel, -payload, -qos, -user and -password for the options, and
// -drop, -evict, -heap-per-stalled and -flood for the declarations.
package protocols
