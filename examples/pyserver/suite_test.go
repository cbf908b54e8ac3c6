package pyserver_test

import (
	"testing"

	"github.com/stallproof/stallproof/examples/internal/execchat"
	"github.com/stallproof/stallproof/examples/internal/suitetest"
	"github.com/stallproof/stallproof/properties"
)

var opts = execchat.Options("chat.py")

// TestSuite: the fixed server passes. Ten checks a property keep the
// package under 30 s with -race on a shared 2-core machine.
func TestSuite(t *testing.T) {
	properties.RunExec(t, execchat.Command(t, "python3", "chat.py"), append(opts, properties.Checks(5))...)
}

// TestSuiteBrokenChild runs the suite against chat.py --broken; it runs
// only as a child of TestSuiteCatchesBroken, since it must fail.
func TestSuiteBrokenChild(t *testing.T) {
	suitetest.SkipUnlessChild(t)
	properties.RunExec(t, execchat.Command(t, "python3", "chat.py", "--broken"), opts...)
}

// TestSuiteCatchesBroken: the suite catches chat.py --broken, on progress
// or delivery.
func TestSuiteCatchesBroken(t *testing.T) {
	execchat.Command(t, "python3", "chat.py")
	suitetest.Caught(t, "TestSuiteBrokenChild", "progress", "delivery")
}
