package properties

import (
	"context"
	"fmt"
	"net"

	"github.com/stallproof/stallproof/internal/sockdiag"
)

// A target is where a check's clients connect: a server Run starts on the
// suite's own listener, or one RunDial, RunAddr or RunExec reaches. With
// the last three, each client's end is a faultnet connection spliced to a connection
// to the server (faultnet.Splice), so the faults still reach the server:
// a client that stops reading stops the splice reading from the server,
// which meets a zero window; a half-close is forwarded as one, a reset as
// a reset.
type target struct {
	dial func(ctx context.Context) (net.Conn, error) // nil: the suite's listener and a ServeFunc
	addr string                                      // RunAddr's address, for reports and socket buffers
	desc string                                      // what String says, if set

	// here: the socket listening on addr belongs to this process (a test
	// that started its server and reached it by address), whose
	// goroutines and heap the suite can see; known: /proc could say.
	here, known bool

	// smallBuffers: the server's own socket buffers are small (a
	// server RunExec started in a namespace), so filling them takes
	// kilobytes, not megabytes, and the suite need not shrink them.
	smallBuffers bool
	// exited, if set, is closed when the server's process exits; exitErr
	// then says why, with its output. The suite treats that like a Serve
	// that returned early.
	exited  <-chan struct{}
	exitErr func() error

	// openDiag opens the sock_diag socket in the target's network
	// namespace; nil: this one.
	openDiag func() (*sockdiag.Conn, error)
	kv       *kernelView // opened by run for a target with an address
}

// kernel returns the kernel's view of the target's sockets, or nil.
func (tg *target) kernel() *kernelView {
	if tg == nil {
		return nil
	}
	return tg.kv
}

// bigBuffers reports whether the server keeps socket buffers of its own
// that the suite could not shrink: on Linux loopback they absorb up to
// ~4 MiB before its Write blocks.
func (tg *target) bigBuffers() bool {
	return tg != nil && tg.addr != "" && !tg.smallBuffers && !(tg.kv != nil && tg.kv.shrunk)
}

// smallSocketBuffers reports whether the server runs in another process
// whose socket buffers are small (RunExec, or RunAddr once the suite shrank
// them): filling them takes one short burst, cheap enough for every check.
func (tg *target) smallSocketBuffers() bool { return tg != nil && tg.addr != "" && !tg.bigBuffers() }

// deepPush returns how many bytes the first check of a property pushes
// to a healthy client while another stalls, to fill the buffers between
// the server and a stalled client (0: none). A server in another process
// keeps its own socket send buffer: up to 4 MiB on Linux loopback (RunAddr
// where the suite could not shrink it). With small socket buffers, the
// server's runtime may still buffer in user space before its write waits:
// asyncio's transports hold 64 KiB before drain() waits, Node's sockets
// 16 KiB before write() returns false; and the socket the suite sees may
// be a proxy's, with a server behind it whose own buffers hold megabytes.
func (tg *target) deepPush() int64 {
	switch {
	case tg == nil || tg.addr == "":
		return 0
	case tg.smallBuffers:
		return 512 << 10
	}
	return 5 << 20
}

// listens reports whether the suite owns the listener: only then can it
// make Accept fail, and stop the server.
func (tg *target) listens() bool { return tg == nil || tg.dial == nil }

// inProcess reports whether the server runs in this process, where its
// goroutines and heap can be seen.
func (tg *target) inProcess() bool { return tg == nil || tg.addr == "" || tg.here }

func (tg *target) String() string {
	switch {
	case tg.listens():
		return "a server on the suite's listener"
	case tg.desc != "":
		return tg.desc
	case tg.addr != "" && tg.here:
		return "the server at " + tg.addr + " (in this process)"
	case tg.addr != "":
		return "the server at " + tg.addr
	}
	return "the server behind the dial function"
}

// elsewhere says why the server's goroutines and heap cannot be seen.
func (tg *target) elsewhere() string {
	if tg.known {
		return fmt.Sprintf("%v runs in another process", tg)
	}
	return fmt.Sprintf("%v may run in another process (this system cannot tell which process listens there)", tg)
}
