package faultnet_test

import (
	"context"
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"github.com/stallproof/stallproof/faultnet"
)

// The net.Conn contract (deadlines, concurrent use, close), checked by an
// independent suite on each way of making connections.

func TestConformancePipe(t *testing.T) {
	t.Parallel()
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := faultnet.Pipe()
		return a, b, func() { a.Close(); b.Close() }, nil
	})
}

func TestConformancePipeSmallBuffer(t *testing.T) {
	t.Parallel()
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := faultnet.Pipe(faultnet.BufferSize(16)) // nettest echoes 13-byte messages: less would deadlock, as in TCP
		return a, b, func() { a.Close(); b.Close() }, nil
	})
}

func TestConformanceListener(t *testing.T) {
	t.Parallel()
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		ln := faultnet.Listen()
		defer ln.Close()
		return listenerPair(ln)
	})
}

func TestConformanceWrappedTCP(t *testing.T) {
	t.Parallel()
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		ln, err := faultnet.ListenTCP("127.0.0.1:0")
		if err != nil {
			return nil, nil, nil, err
		}
		defer ln.Close()
		return listenerPair(ln)
	})
}

// TestConformanceFaultsOff runs the suite on connections whose faults were
// switched on and off again: the slow path must still keep the contract.
func TestConformanceFaultsOff(t *testing.T) {
	t.Parallel()
	listeners := map[string]func() (*faultnet.Listener, error){
		"memory": func() (*faultnet.Listener, error) { return faultnet.Listen(), nil },
		"tcp":    func() (*faultnet.Listener, error) { return faultnet.ListenTCP("127.0.0.1:0") },
	}
	for name, listen := range listeners {
		t.Run(name, func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				ln, err := listen()
				if err != nil {
					return nil, nil, nil, err
				}
				defer ln.Close()
				c1, c2, stop, err = listenerPair(ln)
				if err != nil {
					return nil, nil, nil, err
				}
				for _, c := range []net.Conn{c1, c2} {
					c := c.(*faultnet.Conn)
					// A schedule that never fires keeps the wrapped slow path on.
					c.Inject(faultnet.AfterWritten(1<<40, faultnet.Reset()))
					c.Inject(faultnet.AfterRead(1<<40, faultnet.Reset()))
					c.Inject(faultnet.StallReads()).Remove()
				}
				return c1, c2, stop, nil
			})
		})
	}
}

func listenerPair(ln *faultnet.Listener) (c1, c2 net.Conn, stop func(), err error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	c, err := ln.Dial(context.Background())
	if err != nil {
		ln.Close()
		<-ch
		return nil, nil, nil, err
	}
	r := <-ch
	if r.err != nil {
		c.Close()
		return nil, nil, nil, r.err
	}
	return c, r.c, func() { c.Close(); r.c.Close() }, nil
}
