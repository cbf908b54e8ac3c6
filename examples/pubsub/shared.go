package pubsub

import (
	"strings"
)

// request is one parsed line from a client.
type request struct {
	verb, topic, msg string
}

// parse splits a line into its verb and arguments, or returns the ERR
// line that answers it.
func parse(line string) (request, string) {
	verb, rest, _ := strings.Cut(line, " ")
	switch verb {
	case "PING":
		if rest == "" {
			return request{verb: verb}, ""
		}
	case "SUB":
		if rest != "" && !strings.Contains(rest, " ") {
			return request{verb: verb, topic: rest}, ""
		}
		return request{}, "ERR usage: SUB <topic>"
	case "PUB":
		topic, msg, ok := strings.Cut(rest, " ")
		if ok && topic != "" {
			return request{verb: verb, topic: topic, msg: msg}, ""
		}
		return request{}, "ERR usage: PUB <topic> <msg>"
	}
	return request{}, "ERR unknown command"
}
