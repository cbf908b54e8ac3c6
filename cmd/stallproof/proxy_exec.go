package main

import (
	"context"
	"fmt"
	"net"

	"github.com/stallproof/stallproof/faultnet"
	"github.com/stallproof/stallproof/internal/netns"
	"github.com/stallproof/stallproof/internal/sockdiag"
)

const proxyExecHelp = `
With -exec, the proxy starts the upstream server itself: it runs the command
line with sh -c inside a private network namespace whose socket buffers top
out at -exec-socket-buffer bytes (16 KiB), and proxies to it there, so that
a client stalled behind the proxy blocks the server's writes after tens of
kilobytes, whatever the server's language ({port}, {addr}, PORT and ADDR
tell it where to listen, as for check -exec). -exec and -upstream are
exclusive. It needs Linux and root: the proxy listens on the host, so it
cannot move itself into a user namespace as check -exec does.
`

// proxyExec is a server the proxy started in a network namespace.
type proxyExec struct {
	srv *netns.Server
}

// startProxyExec starts command in a namespace with sockBuf-byte
// buffers.
func startProxyExec(ctx context.Context, command string, sockBuf int) (*proxyExec, error) {
	if netns.NeedsReexec() {
		return nil, fmt.Errorf("-exec: %w: the proxy listens on the host, so it needs root (CAP_SYS_ADMIN) to start a server in a network namespace", netns.ErrPermission)
	}
	srv, err := netns.Start(ctx, []string{"sh", "-c", command}, sockBuf)
	if err != nil {
		return nil, fmt.Errorf("-exec: %w", err)
	}
	return &proxyExec{srv: srv}, nil
}

// options are the proxy's options to reach the server in its namespace.
func (px *proxyExec) options() []faultnet.ProxyOption {
	return []faultnet.ProxyOption{faultnet.ProxyDialer(func(ctx context.Context, d *net.Dialer, _ string) (net.Conn, error) {
		return px.srv.Dial(ctx, d)
	})}
}

// openDiag opens a sock_diag socket inside the server's namespace, where
// the proxy's upstream legs live.
func (px *proxyExec) openDiag() (*sockdiag.Conn, error) {
	var c *sockdiag.Conn
	err := px.srv.Namespace().Do(func() (err error) {
		c, err = sockdiag.Open()
		return err
	})
	return c, err
}

// exited is closed when the server exits; never, for a nil proxyExec.
func (px *proxyExec) exited() <-chan struct{} {
	if px == nil {
		return nil
	}
	return px.srv.Exited()
}
