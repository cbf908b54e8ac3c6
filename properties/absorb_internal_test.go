package properties

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// absorbed measures how many bytes a server writes to a client that never
// reads before its Write blocks: the client connects with dial, and the
// server (on ln) writes 1 KiB at a time until a Write has not returned for
// a second.
func absorbed(t *testing.T, ln net.Listener, dial func() (net.Conn, error)) int64 {
	t.Helper()
	var written atomic.Int64
	var wg sync.WaitGroup
	accepted := make(chan net.Conn, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		accepted <- c
		buf := make([]byte, 1<<10)
		for {
			n, err := c.Write(buf)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	client, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer wg.Wait()
	defer client.Close()
	srv := <-accepted
	defer srv.Close()
	// Blocked: no progress for a second (a frozen writer is infinitely
	// slow, so a generous wait tells it from a slow one). At most 60 s.
	last := int64(-1)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		now := written.Load()
		if now == last {
			return now
		}
		last = now
		time.Sleep(time.Second) // polling a counter; the measurement, not synchronisation
	}
	t.Fatalf("the server's writes never blocked: %d bytes", written.Load())
	return 0
}

// TestBytesAbsorbed: what a stalled client absorbs before the server's
// Write blocks, per target. In memory it is the buffer size; through a
// splice to a real socket of a server in another process it was ~4 MiB
// (the server's socket send buffer); with the suite's kernel view, which
// shrinks the server's listening socket's send buffer, it is kilobytes.
func TestBytesAbsorbed(t *testing.T) {
	t.Parallel() // each case waits a second of no progress: they wait together
	const buf = 8 << 10
	t.Run("Run", func(t *testing.T) {
		t.Parallel()
		ln := faultnet.Listen(faultnet.BufferSize(buf))
		defer ln.Close()
		n := absorbed(t, ln, func() (net.Conn, error) { return ln.Dial(context.Background()) })
		t.Logf("Run (in memory): %d bytes", n)
		if n != buf {
			t.Errorf("in memory, a stalled client absorbed %d bytes, want exactly %d", n, buf)
		}
	})
	t.Run("RunDial", func(t *testing.T) {
		t.Parallel()
		ln := pipeListener{make(chan net.Conn, 1)}
		var sp *faultnet.Spliced
		n := absorbed(t, ln, func() (net.Conn, error) {
			far, srv := net.Pipe()
			ln.conns <- srv
			client, end := faultnet.Pipe(faultnet.BufferSize(buf))
			sp = faultnet.Splice(end, far)
			return client, nil
		})
		t.Cleanup(func() { _ = sp.Close() })
		t.Logf("RunDial (spliced to a net.Pipe): %d bytes", n)
		if n > buf+64<<10 {
			t.Errorf("through RunDial's splice, a stalled client absorbed %d bytes, want the buffer and one splice chunk at most", n)
		}
	})
	t.Run("RunAddr", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		tg := addrTarget(ln.Addr().String(), buf)
		kv := openKernelView(tg, buf, nil)
		defer kv.close()
		if !kv.shrunk {
			t.Skipf("the server's buffers could not be shrunk here: %v", kv.notes)
		}
		var sp *faultnet.Spliced
		n := absorbed(t, ln, func() (net.Conn, error) {
			far, err := tg.dial(context.Background())
			if err != nil {
				return nil, err
			}
			client, end := faultnet.Pipe(faultnet.BufferSize(buf))
			sp = faultnet.Splice(end, faultnet.Wrap(far, faultnet.SocketBufferSize(buf)))
			return client, nil
		})
		t.Cleanup(func() { _ = sp.Close() })
		t.Logf("RunAddr (spliced, server's send buffer shrunk): %d bytes", n)
		if n > 512<<10 {
			t.Errorf("through RunAddr's splice, a stalled client absorbed %d bytes; with the server's buffer shrunk, want kilobytes", n)
		}
	})
}

// pipeListener hands out the server ends of net.Pipes: RunDial's shape.
type pipeListener struct{ conns chan net.Conn }

func (l pipeListener) Accept() (net.Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}
func (l pipeListener) Close() error   { return nil }
func (l pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }
