// Package linger starts goroutines that stand for a server's in the
// engine's own tests of its leak check: goroutines that end late, and ones
// that hand over to another before they end. They live outside the
// properties package, whose own goroutines the leak check leaves out.
package linger

import "time"

// Start starts a goroutine that lives for d, or until stop is closed.
// If handOver, at the end of d it starts another, which lives until stop
// is closed.
func Start(d time.Duration, handOver bool, stop <-chan struct{}) {
	go func() {
		if wait(d, stop) && handOver {
			Forever(stop)
		}
	}()
}

// Forever starts a goroutine that lives until stop is closed.
func Forever(stop <-chan struct{}) {
	go func() { <-stop }()
}

// Periodic starts a goroutine that, every every, starts a worker that
// lives for life (or until stop is closed), until stop is closed: a
// server's background job, whose workers come and go.
func Periodic(every, life time.Duration, stop <-chan struct{}) {
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				Start(life, false, stop)
			}
		}
	}()
}

// Chain starts a goroutine that lives for d, then starts another and
// ends; each one after lives for every and does the same, until stop is
// closed: a goroutine that restarts itself, so that none of the chain
// lives long, and the one running is never one seen before.
func Chain(d, every time.Duration, stop <-chan struct{}) {
	go func() {
		if wait(d, stop) {
			Chain(every, every, stop)
		}
	}()
}

// wait waits for d, or until stop is closed, and reports whether d ran
// out first.
func wait(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}
