//go:build !linux

package netns

import (
	"context"
	"fmt"
	"os/exec"
	"syscall"
)

// A Namespace is a private network namespace; off Linux there is none.
type Namespace struct{ buf int }

// New fails off Linux with ErrUnsupported.
func New(int) (*Namespace, error) { return nil, fmt.Errorf("netns: %w", ErrUnsupported) }

// Do fails off Linux with ErrUnsupported.
func (*Namespace) Do(func() error) error { return fmt.Errorf("netns: %w", ErrUnsupported) }

// Close does nothing off Linux.
func (*Namespace) Close() error { return nil }

// Start fails off Linux with ErrUnsupported.
func (*Namespace) Start(*exec.Cmd) (<-chan error, error) {
	return nil, fmt.Errorf("netns: %w", ErrUnsupported)
}

func procAttr() *syscall.SysProcAttr { return nil }

func signalGroup(int, syscall.Signal) {}

// NeedsReexec is false off Linux: there is nothing to re-execute into.
func NeedsReexec() bool { return false }

// Reexec fails off Linux with ErrUnsupported.
func Reexec(context.Context, []string) (int, error) {
	return 0, fmt.Errorf("netns: %w", ErrUnsupported)
}
