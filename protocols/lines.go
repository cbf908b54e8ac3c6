package protocols

import (
	"fmt"
	"strings"

	"github.com/stallproof/stallproof/properties"
)

// Lines describes a line pub/sub protocol, lines ending in "\n", whose
// words [LineWords] sets (defaults shown):
//
//	SUB <topic>            → OK         (a subscriber's hello, and its greeting)
//	PUB <topic> <payload>  → OK         (a publisher's request, and its reply)
//	                         MSG ...    (pushed to every subscriber)
//	                         ERR ...    (an error answer; a subscriber: dropped)
//
// Two roles: "publisher", not greeted, whose requests are PUBs; and
// "subscriber", whose hello is the SUB, greeted by a line that starts with
// OK. A line that starts with MSG is a push, one that starts with ERR an
// error, one that starts with OK a reply; every other line is ignored.
func Lines(opts ...Option) properties.Protocol {
	c := newConfig(opts)
	w := c.words
	return properties.Protocol{
		Name: c.name("lines"),
		Roles: []properties.Role{
			{
				Name:       "publisher",
				Request:    func(id, n int) []byte { return fmt.Appendf(nil, "%s %s %s\n", w.Pub, c.channel, c.payloadFor(id, n)) },
				Publishes:  true,
				NoGreeting: true,
			},
			{
				Name:       "subscriber",
				Hello:      func(int) []byte { return fmt.Appendf(nil, "%s %s\n", w.Sub, c.channel) },
				Subscribes: true,
			},
		},
		Greeted: func(_ string, _ int, msg []byte) bool { return strings.HasPrefix(string(msg), w.OK) },
		Classify: func(_ string, msg []byte) properties.Class {
			switch s := string(msg); {
			case strings.HasPrefix(s, w.Msg):
				return properties.Push
			case strings.HasPrefix(s, w.Err):
				return properties.ErrorReply
			case strings.HasPrefix(s, w.OK):
				return properties.Reply
			}
			return properties.Ignore
		},
	}
}
