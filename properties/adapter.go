package properties

// Adapter lets Run drive a server that speaks its own line protocol, with
// one kind of client that makes requests and reads what is pushed. It is
// shorthand for a Protocol (see [Adapter.Protocol]); a Protocol can say
// more: roles, a hello per connection, framing, errors, pushes.
type Adapter struct {
	// Greeting is the number of lines the server sends on connect before it
	// reads requests (0 for none).
	Greeting int
	// RequestLine returns the n-th request (from 0) of client id, a whole
	// line with its "\n". Each request must get exactly one reply. (A
	// string, as the lines IsReply reads are; Role.Request, which it
	// becomes, returns bytes.)
	RequestLine func(id, n int) string
	// IsReply reports whether a line from the server is the reply to the
	// oldest unanswered request, rather than something pushed (a broadcast).
	IsReply func(line string) bool
}

// Protocol returns the description the Adapter stands for: one role,
// "client", that makes requests and receives pushes; lines; a greeting of
// Greeting lines; replies told from pushes by IsReply.
func (a Adapter) Protocol() Protocol {
	p := Protocol{
		Name: "adapter protocol",
		Roles: []Role{{
			Name:       "client",
			Request:    func(id, n int) []byte { return []byte(a.RequestLine(id, n)) },
			Publishes:  true,
			Subscribes: true,
		}},
		Classify: func(_ string, msg []byte) Class {
			if a.IsReply(string(msg)) {
				return Reply
			}
			return Push
		},
	}
	if a.Greeting > 0 {
		p.Greeted = func(_ string, n int, _ []byte) bool { return n == a.Greeting-1 }
	}
	return p
}

// WithAdapter runs the generic properties through a, for a server with its
// own line protocol: WithProtocol(a.Protocol()).
func WithAdapter(a Adapter) Option {
	return option("WithAdapter(...)", func(c *config) { c.proto = a.Protocol() })
}
