package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// reexecEnv marks a process that Reexec started.
const reexecEnv = "STALLPROOF_NETNS_USERNS"

// ErrUserNamespaces: this process is not root and may not make a user
// namespace either.
var ErrUserNamespaces = errors.New("private network namespaces need root, or unprivileged user namespaces: run as root, or enable them (sysctl -w kernel.unprivileged_userns_clone=1 or user.max_user_namespaces=10000; on Ubuntu 24.04 and later also kernel.apparmor_restrict_unprivileged_userns=0)")

// NeedsReexec reports whether this process may not make network
// namespaces itself (it is not root) and Reexec can help: it was not
// started by Reexec already. A multithreaded process, which every Go
// program is, cannot move itself into a new user namespace; its child can
// be started in one.
func NeedsReexec() bool { return os.Geteuid() != 0 && os.Getenv(reexecEnv) == "" }

// Reexec runs this program again with args (os.Args[1:], say), with the
// same standard streams, inside a new user namespace in which it is root
// and so may make network namespaces, and returns its exit code once it
// exits. When ctx ends, the child gets SIGTERM. If user namespaces are
// disabled, Reexec fails with ErrUserNamespaces.
func Reexec(ctx context.Context, args []string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("netns: finding this program: %w", err)
	}
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), reexecEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	// Pdeathsig is tied to the thread that starts the child: keep it
	// until the child is reaped.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL) {
			return 0, fmt.Errorf("netns: %v: %w", err, ErrUserNamespaces)
		}
		return 0, fmt.Errorf("netns: starting this program in a user namespace: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Signal(syscall.SIGTERM) })
	defer stop()
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
