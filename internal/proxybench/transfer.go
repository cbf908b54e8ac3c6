package proxybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// PlainCopy is the floor a proxy is measured against: a plain Go proxy, two
// io.Copy calls per connection, with the same 32 KiB socket buffers as
// faultnet.Proxy (set before each connection is made).
var PlainCopy = Kind{"plain-io.Copy", startPlainCopy}

type plainCopy struct{ ln net.Listener }

func (p plainCopy) Addr() string        { return p.ln.Addr().String() }
func (plainCopy) Stall(testing.TB) bool { return false }

func startPlainCopy(tb testing.TB, upstream string) Running {
	tb.Helper()
	const kb = faultnet.DefaultProxySocketBufferSize
	lc := net.ListenConfig{Control: faultnet.SocketBufferControl(kb)}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	d := net.Dialer{Timeout: 10 * time.Second, Control: faultnet.SocketBufferControl(kb)}
	acceptAll(tb, ln, func(g *group, c net.Conn) {
		u, err := d.Dial("tcp", upstream)
		if err != nil {
			c.Close()
			return
		}
		g.keep(c, u)
		g.wg.Go(func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() })
		g.wg.Go(func() { io.Copy(c, u); c.(*net.TCPConn).CloseWrite() })
	})
	return plainCopy{ln}
}

// SmallWrites returns an Upstream's serve function that writes total bytes
// in writes of size bytes, then closes the connection: a server that
// streams in small writes, which is what exposed the proxy's stalls.
func SmallWrites(total int64, size int) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, size)
		for sent := int64(0); sent < total; {
			n, err := c.Write(buf[:min(int64(size), total-sent)])
			sent += int64(n)
			if err != nil {
				return
			}
		}
	}
}

// ErrStalled is returned by Transfer for a transfer cut off by its limit.
var ErrStalled = errors.New("transfer stalled")

// Transfer reads everything c's server sends, until io.EOF, and returns
// how long it took and how many bytes arrived. A transfer that takes more
// than limit is cut off: it returns an error wrapping ErrStalled. Transfer
// closes c.
func Transfer(c net.Conn, limit time.Duration) (time.Duration, int64, error) {
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	n, err := io.CopyBuffer(io.Discard, c, make([]byte, 64<<10))
	took := time.Since(start)
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return took, n, fmt.Errorf("%w: %d bytes after %v", ErrStalled, n, took.Round(time.Millisecond))
	}
	return took, n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// SpliceDialer returns a dial function shaped as properties.RunAddr makes
// its clients: an in-memory faultnet pipe whose far end is spliced
// (faultnet.Splice) to a TCP connection to addr with 32 KiB socket
// buffers. Cleanup waits for every splice it made.
func SpliceDialer(tb testing.TB, addr string) func() (net.Conn, error) {
	const kb = faultnet.DefaultProxySocketBufferSize
	d := net.Dialer{Timeout: 10 * time.Second, Control: faultnet.SocketBufferControl(kb)}
	var mu sync.Mutex
	var all []*faultnet.Spliced
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, sp := range all {
			sp.Close()
		}
	})
	return func() (net.Conn, error) {
		far, err := d.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		client, end := faultnet.Pipe(faultnet.Name("spliced"))
		sp := faultnet.Splice(end, faultnet.Wrap(far, faultnet.SocketBufferSize(kb)))
		mu.Lock()
		all = append(all, sp)
		mu.Unlock()
		return client, nil
	}
}

// Download measures transfers of total bytes, written by the server in
// writes of size bytes, through k: b.N transfers on new connections. A
// transfer over 30 s fails the benchmark.
func Download(b *testing.B, k Kind, total int64, size int) {
	up := NewUpstream(b, SmallWrites(total, size))
	r := k.Start(b, up.Addr())
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		c, err := net.DialTimeout("tcp", r.Addr(), 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if _, n, err := Transfer(c, 30*time.Second); err != nil || n != total {
			b.Fatalf("%d of %d bytes: %v", n, total, err)
		}
	}
}
