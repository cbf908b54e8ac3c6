package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
)

// ServeMQTT runs an MQTT 3.1.1 broker on ln until ctx ends: CONNECT,
// SUBSCRIBE (granted QoS 0, exact topics), PUBLISH at QoS 0 and 1,
// PINGREQ, DISCONNECT; no sessions, no retained messages.
func ServeMQTT(ctx context.Context, ln net.Listener) error { return serve(ctx, ln, false, handleMQTT) }

// ServeMQTTBroken is ServeMQTT with the bug: it writes to subscribers
// under its lock.
func ServeMQTTBroken(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, true, handleMQTT)
}

func handleMQTT(c *conn, r *bufio.Reader) error {
	for {
		first, body, err := readMQTTPacket(r)
		if err != nil {
			return err
		}
		switch first >> 4 {
		case 1: // CONNECT
			c.reply([]byte{0x20, 2, 0, 0})
		case 8: // SUBSCRIBE
			if len(body) < 2 {
				return errProtocol
			}
			ack := append([]byte{0x90, 0}, body[:2]...)
			for rest := body[2:]; len(rest) >= 3; {
				n := int(binary.BigEndian.Uint16(rest))
				if len(rest) < 3+n {
					return errProtocol
				}
				topic := string(rest[2 : 2+n])
				c.subscribe(topic, func(p []byte) []byte { return mqttPublish(topic, p) })
				ack = append(ack, 0)
				rest = rest[3+n:]
			}
			ack[1] = byte(len(ack) - 2)
			c.reply(ack)
		case 3: // PUBLISH
			qos := first >> 1 & 3
			if len(body) < 2 {
				return errProtocol
			}
			n := int(binary.BigEndian.Uint16(body))
			at := 2 + n
			if qos > 0 {
				at += 2
			}
			if len(body) < at {
				return errProtocol
			}
			c.publish(string(body[2:2+n]), body[at:])
			if qos == 1 {
				c.reply([]byte{0x40, 2, body[at-2], body[at-1]})
			}
		case 12: // PINGREQ
			c.reply([]byte{0xd0, 0})
		case 14: // DISCONNECT
			return io.EOF
		}
	}
}

// readMQTTPacket reads one control packet: its first byte and its body.
func readMQTTPacket(r *bufio.Reader) (byte, []byte, error) {
	first, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	size, mult := 0, 1
	for i := 0; ; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		if i == 4 {
			return 0, nil, errProtocol
		}
		size += int(b&0x7f) * mult
		mult *= 128
		if b&0x80 == 0 {
			break
		}
	}
	if size > MaxMessage {
		return 0, nil, errProtocol
	}
	body := make([]byte, size)
	_, err = io.ReadFull(r, body)
	return first, body, err
}

func mqttPublish(topic string, payload []byte) []byte {
	rest := binary.BigEndian.AppendUint16(nil, uint16(len(topic)))
	rest = append(append(rest, topic...), payload...)
	b := []byte{0x30}
	for n := len(rest); ; {
		d := byte(n % 128)
		if n /= 128; n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			break
		}
	}
	return append(b, rest...)
}
