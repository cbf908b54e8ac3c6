package pyserver_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/properties"
)

// protocol describes chat.py's line protocol: every member publishes and
// receives every message; the server greets each with HELLO once it is
// counted in.
var protocol = properties.Protocol{
	Name: "chat.py",
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
			return properties.Error
		}
		return properties.Reply // OK <n>
	},
}

// maxPending is chat.py's MAX_PENDING: the bytes it queues for a client
// before it drops it.
const maxPending = 64 << 10

var opts = []properties.Option{
	properties.WithProtocol(protocol),
	properties.SlowConsumers(properties.Drop(maxPending)),
}

// command starts chat.py; it skips t where python3 or namespaces are
// missing.
func command(t *testing.T, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on the PATH")
	}
	if os.Geteuid() != 0 {
		t.Skip("RunExec makes network namespaces, which needs root")
	}
	return append([]string{"python3", "chat.py", "--port", "{port}"}, args...)
}

// TestSuite: the fixed server passes. Ten checks a property keep the
// package under 30 s with -race on a shared 2-core machine.
func TestSuite(t *testing.T) {
	properties.RunExec(t, command(t), append(opts, properties.Checks(10))...)
}

// TestSuiteBrokenChild runs the suite against chat.py --broken; it runs
// only as a child of TestSuiteCatchesBroken, since it must fail.
func TestSuiteBrokenChild(t *testing.T) {
	suitetest.SkipUnlessChild(t)
	properties.RunExec(t, command(t, "--broken"), opts...)
}

// TestSuiteCatchesBroken: the suite catches chat.py --broken, on progress
// or delivery.
func TestSuiteCatchesBroken(t *testing.T) {
	command(t)
	suitetest.Caught(t, "TestSuiteBrokenChild", "progress", "delivery")
}
