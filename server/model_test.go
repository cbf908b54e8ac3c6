package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stallproof/stallproof/wire"
)

// model returns, byte for byte, what a server with pushes switched off
// sends to a client alone with it that sends in and then half-closes. It
// is protocol v1 written as plainly as possible, to check the server
// against (golden transcripts, FuzzConn).
func model(opts []string, in []byte) []byte {
	out := wire.AppendHello(nil, opts)
	counts := make([]uint64, len(opts))
	var seq, lastTally uint64
	out = wire.AppendTally(out, 0, opts, counts)
	for {
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			if len(in) >= wire.MaxLine {
				return append(out, errLineTooLong...)
			}
			// EOF: an incomplete last line is dropped; the latest tally
			// follows the replies unless the client has it already.
			if seq > lastTally {
				out = wire.AppendTally(out, seq, opts, counts)
			}
			return out
		}
		line := in[:i+1]
		in = in[i+1:]
		if len(line) > wire.MaxLine {
			return append(out, errLineTooLong...)
		}
		req, err := wire.ParseRequest(line)
		if err != nil {
			out = wire.AppendErr(out, wire.CodeBadRequest, badRequestText(err))
			continue
		}
		switch req.Kind {
		case wire.Vote:
			k := -1
			for j, o := range opts {
				if o == string(req.Option) {
					k = j
				}
			}
			if k < 0 {
				out = wire.AppendErr(out, wire.CodeUnknownOption, "no such option: "+string(req.Option))
				continue
			}
			counts[k]++
			seq++
			out = wire.AppendOK(out, seq)
		case wire.Tally:
			out = wire.AppendTally(out, seq, opts, counts)
			lastTally = seq
		case wire.Quit:
			return wire.AppendBye(out)
		}
	}
}

// session runs one client against a fresh server with pushes off, over
// tr: it sends in (split into writes of chunk bytes,
// if chunk > 0), half-closes, and returns everything the server sent
// until it closed.
func session(t testing.TB, tr transport, in []byte, chunk int) []byte {
	t.Helper()
	s := newServer(t, Config{})
	s.testNoBroadcast = true
	ln := tr.listen(t)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(context.Background(), ln) }()
	defer func() {
		s.Close()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	nc, err := ln.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	tr.dialed(nc)
	nc.SetDeadline(time.Now().Add(bound))
	werr := make(chan error, 1)
	go func() {
		werr <- func() error {
			for p := in; len(p) > 0; {
				n := len(p)
				if chunk > 0 {
					n = min(n, chunk)
				}
				if _, err := nc.Write(p[:n]); err != nil {
					return err
				}
				p = p[n:]
			}
			return nc.CloseWrite()
		}()
	}()
	got, err := io.ReadAll(nc)
	if err != nil && !isReset(err) {
		t.Fatalf("read: %v", err)
	}
	// The write side may fail once the server has closed (QUIT, a line
	// too long): it stops reading then.
	if err := <-werr; err != nil && !isReset(err) && !isPipe(err) {
		t.Fatalf("write: %v", err)
	}
	return got
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
func isPipe(err error) bool  { return errors.Is(err, syscall.EPIPE) }
