package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/report"
)

func init() {
	register("check", "run the property suite against a server listening on a loopback address, in any language", runCheck)
}

const checkHelp = `
The server must already listen on -addr. It speaks protocol v1 (the
default; see wire/doc.go), or a line protocol described by the flags:

  -request LINE      every request a client makes ("GET k", "PING"); {id} in it
                     is replaced by the client's number, {n} by the request's
  -reply PREFIX      a server line that starts with PREFIX answers a request
                     (repeatable); every other line is a push
  -error PREFIX      a server line that starts with PREFIX is an error answer
  -greeting N        lines the server sends on connect before it reads requests

Exit status: 0 if every property passed or was skipped, 1 if one failed,
2 for bad flags, an address where nothing listens, an -exec server that
could not be started, or a server that never spoke the protocol as
described ("could not speak PROTOCOL to ADDR: ...").
`

func runCheck(ctx context.Context, args []string) error {
	fs := newFlagSet("check", "check -addr HOST:PORT [flags]  |  check -exec 'COMMAND {port}' [flags]")
	var (
		addr     = fs.String("addr", "127.0.0.1:9000", "loopback `address` of the server to check")
		checks   = fs.Int("checks", 5, "scenarios per property (each pushes megabytes through a stalled client: a server in its own process keeps its kernel's 4 MiB send buffer)")
		bound    = fs.Duration("bound", properties.DefaultBound, "how long a healthy client waits for an answer")
		props    = fs.String("props", "", "comma-separated `properties` to run (default: all)")
		request  = fs.String("request", "", "a line protocol's request `line`, without the newline")
		greeting = fs.Int("greeting", 0, "`lines` a line-protocol server sends on connect")
		errPre   = fs.String("error", "", "`prefix` of a line-protocol server's error lines")
		replies  multiFlag
	)
	fs.Var(&replies, "reply", "`prefix` of a line-protocol server's answers (repeatable)")
	pf := addProtocolFlags(fs) // check_protocol.go
	addHelp(fs, args, checkHelp+checkProtocolHelp)
	ex := addExecFlags(fs, args) // check_exec.go
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *checks < 1:
		return flagError(fs, "-checks", "want at least 1, got %d", *checks)
	case *bound <= 0:
		return flagError(fs, "-bound", "want a duration above 0, got %v", *bound)
	case *greeting < 0:
		return flagError(fs, "-greeting", "want 0 or more, got %d", *greeting)
	case (*request == "") != (len(replies) == 0):
		return flagError(fs, "-request, -reply", "they describe a line protocol together: give both, or neither for protocol v1")
	}
	if done, err := ex.prepare(ctx, fs, args); done || err != nil {
		return err
	}
	if !ex.set() {
		if err := checkLoopbackAddr(*addr); err != nil {
			return flagError(fs, "-addr", "%v", err)
		}
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err := d.DialContext(ctx, "tcp", *addr)
		if err != nil {
			return flagError(fs, "-addr", "nothing accepts connections at %s: %v", *addr, err)
		}
		c.Close()
	}
	popts, err := pf.options(fs, *request != "")
	if err != nil {
		return err
	}

	opts := append([]properties.Option{properties.Checks(*checks), properties.Bound(*bound)}, popts...)
	if *props != "" {
		opts = append(opts, properties.Properties(strings.Split(*props, ",")...))
	}
	if *request != "" {
		opts = append(opts, properties.WithProtocol(lineProtocol(*request, replies, *errPre, *greeting)))
	}
	fmt.Fprintf(stdout, "stallproof check: %s, %d checks per property, bound %v\n", ex.target(*addr), *checks, *bound)
	verdicts, err := ex.check(stdout, *addr, opts)
	if err != nil {
		fmt.Fprintf(stderr, "stallproof check: %v\n", err)
		return errUsage
	}
	fmt.Fprintln(stdout, "\nverdicts:")
	failed := 0
	for _, v := range verdicts {
		line := fmt.Sprintf("  %-12s %s", v.Property, v.Result)
		if v.Violation != "" {
			line += "  " + v.Violation
		}
		if v.Note != "" {
			line += "  (" + v.Note + ")"
		}
		fmt.Fprintln(stdout, line)
		if v.Result == report.Fail {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d properties failed", failed, len(verdicts))
	}
	return nil
}

// lineProtocol describes a line protocol from check's flags.
func lineProtocol(request string, replies []string, errPrefix string, greeting int) properties.Protocol {
	a := properties.Adapter{
		Greeting: greeting,
		RequestLine: func(id, n int) string {
			r := strings.NewReplacer("{id}", fmt.Sprint(id), "{n}", fmt.Sprint(n)).Replace(request)
			return r + "\n"
		},
		IsReply: func(line string) bool {
			for _, p := range replies {
				if strings.HasPrefix(line, p) {
					return true
				}
			}
			return errPrefix != "" && strings.HasPrefix(line, errPrefix)
		},
	}
	p := a.Protocol()
	p.Name = "line protocol (-request " + fmt.Sprintf("%q", request) + ")"
	if errPrefix != "" {
		classify := p.Classify
		p.Classify = func(role string, msg []byte) properties.Class {
			if strings.HasPrefix(string(msg), errPrefix) {
				return properties.ErrorReply
			}
			return classify(role, msg)
		}
	}
	return p
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty prefix")
	}
	*m = append(*m, s)
	return nil
}
