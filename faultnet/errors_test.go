package faultnet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/faultnet"
)

// The errors must have the shapes a real socket's have, so servers' real
// error paths run: *net.OpError -> *os.SyscallError -> syscall.Errno.

func wantSyscall(t *testing.T, err error, op string, errno syscall.Errno) {
	t.Helper()
	var oe *net.OpError
	var se *os.SyscallError
	require.ErrorAs(t, err, &oe)
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, errno)
	assert.Equal(t, op, oe.Op, "OpError.Op")
	assert.Equal(t, "tcp", oe.Net, "OpError.Net")
	assert.NotNil(t, oe.Addr, "OpError.Addr")
	assert.True(t, strings.HasSuffix(err.Error(), ": "+errno.Error()), "message %q does not end with %q", err, errno.Error())
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, tr transport) {
		t.Run("reset", func(t *testing.T) {
			c, s := tr.pair(t)
			c.Inject(faultnet.Reset())
			_, err := s.Read(make([]byte, 1))
			wantSyscall(t, err, "read", syscall.ECONNRESET)
			_, err = c.Write([]byte("x"))
			wantSyscall(t, err, "write", syscall.ECONNRESET)
		})
		t.Run("broken pipe after CloseWrite", func(t *testing.T) {
			c, _ := tr.pair(t)
			c.CloseWrite()
			_, err := c.Write([]byte("x"))
			wantSyscall(t, err, "write", syscall.EPIPE)
		})
		t.Run("EOF is unwrapped", func(t *testing.T) {
			c, s := tr.pair(t)
			c.CloseWrite()
			s.SetReadDeadline(time.Now().Add(liveness))
			if _, err := s.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("err = %#v, want io.EOF itself", err)
			}
		})
		t.Run("closed", func(t *testing.T) {
			c, _ := tr.pair(t)
			if err := c.Close(); err != nil {
				t.Fatalf("first Close: %v", err)
			}
			for name, err := range map[string]error{
				"Close":            c.Close(),
				"SetDeadline":      c.SetDeadline(time.Now()),
				"SetReadDeadline":  c.SetReadDeadline(time.Now()),
				"SetWriteDeadline": c.SetWriteDeadline(time.Now()),
				"CloseWrite":       c.CloseWrite(),
				"CloseRead":        c.CloseRead(),
			} {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("%s after Close: %v, want net.ErrClosed", name, err)
				}
			}
			for op, f := range map[string]func([]byte) (int, error){"read": c.Read, "write": c.Write} {
				_, err := f(make([]byte, 1))
				var oe *net.OpError
				assert.ErrorIs(t, err, net.ErrClosed, op)
				if assert.ErrorAs(t, err, &oe, op) {
					assert.Equal(t, op, oe.Op)
				}
			}
		})
		t.Run("timeout", func(t *testing.T) {
			c, _ := tr.pair(t)
			c.SetReadDeadline(time.Now().Add(-time.Second))
			_, err := c.Read(make([]byte, 1))
			wantTimeout(t, err)
			var oe *net.OpError
			errors.As(err, &oe)
			if oe.Op != "read" || !oe.Timeout() {
				t.Errorf("timeout OpError %+v", oe)
			}
		})
	})
}

func TestErrorShapesMemoryOnly(t *testing.T) {
	t.Parallel()
	t.Run("peer closed its read side", func(t *testing.T) {
		c, s := memoryPair(t)
		s.CloseRead()
		_, err := c.Write([]byte("x"))
		wantSyscall(t, err, "write", syscall.EPIPE)
	})
	t.Run("peer closed", func(t *testing.T) {
		c, s := memoryPair(t)
		s.Close()
		_, err := c.Write([]byte("x"))
		wantSyscall(t, err, "write", syscall.EPIPE)
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("Read after the peer closed: %v, want io.EOF", err)
		}
	})
	t.Run("reset seen by the resetting end too", func(t *testing.T) {
		c, _ := memoryPair(t)
		c.Inject(faultnet.Reset())
		_, err := c.Read(make([]byte, 1))
		wantSyscall(t, err, "read", syscall.ECONNRESET)
	})
}

func TestListenerErrorShapes(t *testing.T) {
	t.Parallel()
	for _, lt := range listenerTransports {
		t.Run(lt.name, func(t *testing.T) {
			t.Run("accept EMFILE is temporary", func(t *testing.T) {
				ln := lt.listen(t)
				ln.FailAccepts(1)
				_, err := ln.Accept()
				wantSyscall(t, err, "accept", syscall.EMFILE)
				var ne net.Error
				//lint:ignore SA1019 Temporary is what servers test for EMFILE.
				if !errors.As(err, &ne) || !ne.Temporary() || ne.Timeout() {
					t.Errorf("accept error %v: want Temporary and not Timeout", err)
				}
			})
			t.Run("dial a closed listener: ECONNREFUSED", func(t *testing.T) {
				ln := lt.listen(t)
				ln.Close()
				ctx, cancel := context.WithTimeout(context.Background(), liveness)
				defer cancel()
				c, err := ln.Dial(ctx)
				if err == nil {
					c.Close()
					t.Fatal("dial succeeded")
				}
				wantErrno(t, err, "dial", syscall.ECONNREFUSED)
			})
			t.Run("accept on a closed listener: net.ErrClosed", func(t *testing.T) {
				ln := lt.listen(t)
				ln.Close()
				if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
					t.Errorf("Accept = %v", err)
				}
				if err := ln.Close(); !errors.Is(err, net.ErrClosed) {
					t.Errorf("second Close = %v", err)
				}
			})
		})
	}
}
