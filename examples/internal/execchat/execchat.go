// Package execchat describes, for the suite, the line protocol of the
// chat servers in other languages (pyserver's chat.py, nodeserver's
// chat.js), and starts them for properties.RunExec.
//
// The protocol: HELLO on connect, once the client is counted in; "PUB
// <text>" is answered "OK <n>" and pushed as "MSG <text>" to every
// connected client, the publisher too; any other line is answered
// "ERR ...". Each server, when fixed, queues at most MaxPending bytes for
// a client and then drops it.
package execchat

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/properties"
)

// MaxPending is what the fixed servers queue for a client before they
// drop it (MAX_PENDING in their sources).
const MaxPending = 64 << 10

// Protocol describes the servers' line protocol: one role, "member", that
// publishes and receives every message.
func Protocol(name string) properties.Protocol {
	return properties.Protocol{
		Name: name,
		Roles: []properties.Role{{
			Name:       "member",
			Request:    func(id, n int) []byte { return fmt.Appendf(nil, "PUB c%d-%d\n", id, n) },
			Publishes:  true,
			Subscribes: true,
		}},
		Greeted: func(_ string, _ int, msg []byte) bool { return string(msg) == "HELLO" },
		Classify: func(_ string, msg []byte) properties.Class {
			switch s := string(msg); {
			case strings.HasPrefix(s, "MSG "):
				return properties.Push
			case strings.HasPrefix(s, "ERR "):
				return properties.ErrorReply
			}
			return properties.Reply // OK <n>
		},
	}
}

// Options are the suite's options for a server named name: its protocol,
// and its declared policy (Drop(MaxPending)).
func Options(name string) []properties.Option {
	return []properties.Option{
		properties.WithProtocol(Protocol(name)),
		properties.SlowConsumers(properties.Drop(MaxPending)),
	}
}

// Command returns the command line that runs script with interpreter,
// listening on the port RunExec picks, followed by args. It skips t where
// the interpreter is not on the PATH or this process may not make network
// namespaces (RunExec needs root).
func Command(t *testing.T, interpreter, script string, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath(interpreter); err != nil {
		t.Skipf("%s is not on the PATH", interpreter)
	}
	if os.Geteuid() != 0 {
		t.Skip("RunExec makes network namespaces, which needs root")
	}
	return append([]string{interpreter, script, "--port", "{port}"}, args...)
}
