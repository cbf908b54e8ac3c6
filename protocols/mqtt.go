package protocols

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/stallproof/stallproof/properties"
)

// MQTT packet types (the high nibble of the first byte), MQTT 3.1.1 §2.2.1.
const (
	mqttConnect    = 1
	mqttConnack    = 2
	mqttPublish    = 3
	mqttPuback     = 4
	mqttSubscribe  = 8
	mqttSuback     = 9
	mqttPingreq    = 12
	mqttPingresp   = 13
	mqttDisconnect = 14
)

// MQTT describes MQTT 3.1.1 with two roles:
//
//   - "publisher" sends CONNECT (clean session, keep-alive 60 s) and is
//     greeted by a CONNACK that accepts it; each request is a PUBLISH to
//     the topic;
//   - "subscriber" sends CONNECT and SUBSCRIBE (QoS 0) and is greeted by
//     the SUBACK; each PUBLISH it receives is a push.
//
// A QoS 1 publish ([QoS](1)) is answered by its PUBACK. A QoS 0 publish
// (the default) is acknowledged by nothing, so each is followed by a
// PINGREQ, and the PINGRESP answers the request: a broker handles a
// connection's packets in order, so the PINGRESP comes once the PUBLISH is
// processed. Client identifiers are unique per client ([ClientID] sets
// their prefix): a broker closes an older connection with the same
// identifier. Packets are framed by [SplitMQTT].
func MQTT(opts ...Option) properties.Protocol {
	c := newConfig(opts)
	var seq atomic.Int64
	run := rand.Uint32() // identifiers stay unique across runs against one broker
	connect := func(id int) []byte {
		return mqttConnectPacket(fmt.Sprintf("%s-%08x-%d-c%d", c.clientID, run, seq.Add(1), id), c.user, c.password)
	}
	reply := byte(mqttPingresp)
	if c.qos == 1 {
		reply = mqttPuback
	}
	return properties.Protocol{
		Name: c.name("MQTT 3.1.1"),
		Roles: []properties.Role{
			{
				Name:  "publisher",
				Hello: connect,
				Request: func(id, n int) []byte {
					p := mqttPublishPacket(c.channel, c.payloadFor(id, n), c.qos, uint16(n%65535+1))
					if c.qos == 0 {
						p = append(p, mqttPingreq<<4, 0)
					}
					return p
				},
				Publishes: true,
			},
			{
				Name:       "subscriber",
				Hello:      func(id int) []byte { return append(connect(id), mqttSubscribePacket(c.channel, 1)...) },
				Subscribes: true,
			},
		},
		Split:      SplitMQTT,
		MaxMessage: 1 << 20,
		Greeted: func(role string, _ int, msg []byte) bool {
			if role == "publisher" {
				return msg[0]>>4 == mqttConnack && len(msg) == 4 && msg[3] == 0
			}
			return msg[0]>>4 == mqttSuback
		},
		Classify: func(role string, msg []byte) properties.Class {
			switch t := msg[0] >> 4; {
			case t == mqttPublish && role == "subscriber":
				return properties.Push
			case t == reply && role == "publisher":
				return properties.Reply
			case t == mqttDisconnect:
				return properties.ErrorReply
			}
			return properties.Ignore
		},
	}
}

// mqttPacket is a packet: its first byte, the remaining length, the rest.
func mqttPacket(first byte, rest []byte) []byte {
	b := []byte{first}
	n := len(rest)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			break
		}
	}
	return append(b, rest...)
}

func mqttString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

func mqttConnectPacket(clientID, user, password string) []byte {
	flags := byte(0x02) // clean session
	if user != "" {
		flags |= 0x80
	}
	if password != "" {
		flags |= 0x40
	}
	rest := mqttString(nil, "MQTT")
	rest = append(rest, 4, flags, 0, 60) // protocol level 4 (3.1.1), keep-alive 60 s
	rest = mqttString(rest, clientID)
	if user != "" {
		rest = mqttString(rest, user)
	}
	if password != "" {
		rest = mqttString(rest, password)
	}
	return mqttPacket(mqttConnect<<4, rest)
}

func mqttSubscribePacket(topic string, packetID uint16) []byte {
	rest := binary.BigEndian.AppendUint16(nil, packetID)
	rest = append(mqttString(rest, topic), 0) // QoS 0
	return mqttPacket(mqttSubscribe<<4|0x02, rest)
}

func mqttPublishPacket(topic string, payload []byte, qos byte, packetID uint16) []byte {
	rest := mqttString(nil, topic)
	if qos > 0 {
		rest = binary.BigEndian.AppendUint16(rest, packetID)
	}
	return mqttPacket(mqttPublish<<4|qos<<1, append(rest, payload...))
}

// SplitMQTT is a bufio.SplitFunc that frames MQTT control packets (3.1.1
// and 5): each token is one whole packet, fixed header included. It
// returns an error for a remaining length longer than four bytes, and for
// a packet cut short by EOF.
func SplitMQTT(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	size, mult := 0, 1
	for i := 1; ; i++ {
		if i > 4 {
			return 0, nil, fmt.Errorf("protocols: MQTT remaining length longer than 4 bytes: % x", data[:5])
		}
		if i >= len(data) {
			break
		}
		size += int(data[i]&0x7f) * mult
		mult *= 128
		if data[i]&0x80 == 0 {
			if total := i + 1 + size; len(data) >= total {
				return total, data[:total], nil
			}
			break
		}
	}
	if atEOF {
		return 0, nil, fmt.Errorf("protocols: MQTT packet % .8x cut short by EOF", data)
	}
	return 0, nil, nil
}
