package exampletest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/properties"
)

// Chat is the Target of one of the chat servers written in other
// languages (pyserver's chat.py, nodeserver's chat.js), in another process
// started by properties.RunExec: interpreter runs script, listening on the
// port RunExec picks, followed by args; the suite speaks the servers' line
// protocol (chatProtocol) and holds them to their declared policy,
// Drop(64 KiB), before the options it is given. Chat skips t where
// the interpreter is not on the PATH or this process may not make network
// namespaces (RunExec needs root), so call it in the test itself, before
// Passes or Fails.
func Chat(t *testing.T, interpreter, script string, args ...string) Target {
	t.Helper()
	if _, err := exec.LookPath(interpreter); err != nil {
		t.Skipf("%s is not on the PATH", interpreter)
	}
	if os.Geteuid() != 0 {
		t.Skip("RunExec makes network namespaces, which needs root")
	}
	command := append([]string{interpreter, script, "--port", "{port}"}, args...)
	return func(t *testing.T, opts ...properties.Option) {
		t.Helper()
		properties.RunExec(t, command, append([]properties.Option{
			properties.WithProtocol(chatProtocol(script)),
			properties.SlowConsumers(properties.Drop(chatMaxPending)),
		}, opts...)...)
	}
}

// chatMaxPending is what the chat servers in other languages (pyserver's
// chat.py, nodeserver's chat.js), when fixed, queue for a client before
// they drop it (MAX_PENDING in their sources).
const chatMaxPending = 64 << 10

// chatProtocol describes the line protocol of the chat servers in other
// languages, for the one named name: HELLO on connect, once the client is
// counted in; "PUB <text>" is answered "OK <n>" and pushed as "MSG <text>"
// to every connected client, the publisher too; any other line is
// answered "ERR ...". One role, "member", publishes and receives every
// message.
func chatProtocol(name string) properties.Protocol {
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
