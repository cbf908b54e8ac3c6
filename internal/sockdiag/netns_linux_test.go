package sockdiag

import (
	"errors"
	"runtime"
	"syscall"
	"testing"
)

// TestOpenNamespace: a Conn opened on a thread in a new network namespace
// sees that namespace's sockets only, from whichever goroutine uses it.
func TestOpenNamespace(t *testing.T) {
	host := openT(t)
	client, _ := pairT(t, "127.0.0.1:0", "127.0.0.1")
	local, remote := ServerSide(client)
	type opened struct {
		c   *Conn
		err error
	}
	ch := make(chan opened)
	go func() {
		// Never unlocked: the thread, now in another namespace, exits with
		// the goroutine.
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			ch <- opened{nil, err}
			return
		}
		c, err := Open()
		ch <- opened{c, err}
	}()
	o := <-ch
	if errors.Is(o.err, syscall.EPERM) {
		t.Skipf("no new network namespace here: %v", o.err)
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	defer o.c.Close()
	if _, err := host.Lookup(local, remote); err != nil {
		t.Fatalf("host namespace: %v", err)
	}
	if s, err := o.c.Lookup(local, remote); !errors.Is(err, ErrNotFound) {
		t.Errorf("new namespace sees the host's socket: %v, %v", s, err)
	}
}
