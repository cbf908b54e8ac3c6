package exampletest

import (
	"fmt"
	"iter"
	"testing"
	"time"
)

// ErrNoMessage is what Inbox.Next returns when nothing came within Bound.
var ErrNoMessage = fmt.Errorf("no message within %v", Bound)

// An Inbox holds what a test client's reader goroutine received, for the
// test to take one at a time.
type Inbox[T any] struct {
	c   chan T
	err error // why receiving ended; read once c is closed
}

// Receive starts a goroutine that calls recv until it returns an error,
// and returns the Inbox of what it received. It holds up to 16384 values
// that the test has not taken.
func Receive[T any](recv func() (T, error)) *Inbox[T] {
	in := &Inbox[T]{c: make(chan T, 1<<14)}
	go func() {
		defer close(in.c)
		for {
			v, err := recv()
			if err != nil {
				in.err = err
				return
			}
			in.c <- v
		}
	}()
	return in
}

// Next returns the next value within Bound; or ErrNoMessage; or, once
// receiving has ended, an error that wraps why.
func (in *Inbox[T]) Next() (T, error) {
	var zero T
	select {
	case v, ok := <-in.c:
		if !ok {
			return zero, fmt.Errorf("the connection ended: %w", in.err)
		}
		return v, nil
	case <-time.After(Bound):
		return zero, ErrNoMessage
	}
}

// All yields every value still to come, until receiving ends, however long
// that takes; then Err says why it ended.
func (in *Inbox[T]) All() iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range in.c {
			if !yield(v) {
				return
			}
		}
	}
}

// Err is why receiving ended, once All has yielded everything.
func (in *Inbox[T]) Err() error { return in.err }

// PublishEach publishes n messages, each answered before the next
// (publish(i) returns nil once message i is answered), while a healthy
// subscriber receives every one in order: next returns its next message
// within Bound, which must be want(i). It returns how many were answered
// before the first that was not (n if all were) and that one's error. If
// all were answered, it fails t unless the subscriber received every
// message, in order.
//
// Publishing stays at most Window messages ahead of the subscriber, as
// long as the subscriber keeps receiving within Bound.
func PublishEach(t *testing.T, n int, publish func(i int) error, next func() (string, error), want func(i int) string) (answered int, err error) {
	t.Helper()
	got := make(chan error, 1)
	received := make(chan struct{}, n) // a token per message received
	go func() {
		for i := range n {
			msg, err := next()
			if err != nil {
				got <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			if msg != want(i) {
				got <- fmt.Errorf("message %d: got %.30q, want %.30q", i, msg, want(i))
				return
			}
			received <- struct{}{}
		}
		got <- nil
	}()
	var ended error            // the subscriber's end
	seen, paced := false, true // seen: ended is known
	for answered = 0; answered < n; answered++ {
		if paced && answered >= Window {
			select {
			case <-received:
			case ended = <-got:
				seen, paced = true, false // it ended: nothing to wait for
			case <-time.After(Bound):
				paced = false // it is stuck: the publishes will say so
			}
		}
		if err := publish(answered); err != nil {
			if !seen {
				<-got // it fails within Bound too
			}
			return answered, err
		}
	}
	if !seen {
		ended = <-got
	}
	if ended != nil {
		t.Errorf("healthy subscriber: %v", ended)
	}
	return n, nil
}

// Window is how far PublishEach publishes ahead of its healthy subscriber:
// 64 messages, 32 KiB of the tests' 500-byte payloads, far less than any
// example server holds for a client before it calls it slow. Unpaced, a
// loaded machine once let the subscriber fall 700 messages behind, and
// pubsub rightly dropped it as a slow consumer (MaxPending, 256 KiB).
const Window = 64
