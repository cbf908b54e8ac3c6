package sockdiag

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// ShrinkSendBuffer sets the send buffer limit of the TCP socket s, which may
// belong to another process, to about bytes: afterwards a lookup reports
// SendBuffer == bytes rounded to even (the kernel keeps at least about
// 4.5 KiB). It also stops the kernel from growing the buffer again
// (autotuning is off once SO_SNDBUF is set). It takes effect at once on an
// established connection, for the writes that follow: a write queue already
// longer than the new limit must drain below it first. The kernel starts a
// new segment whenever the queue is under the limit, so the queue can pass
// the limit by one segment (up to 64 KiB on loopback).
//
// It finds a process holding s by s.Inode: pidHint first when it is > 0,
// then every process in /proc. It duplicates that process's descriptor
// with pidfd_getfd (Linux 5.6), which needs ptrace rights over the process
// (the same user, and kernel.yama.ptrace_scope 0 or 1 with the process a
// descendant, or CAP_SYS_PTRACE); it returns an error wrapping
// syscall.EPERM otherwise. The socket in this process works the same way.
// Processes are searched in this process's PID namespace; the socket may be
// in any network namespace.
// It returns the PID it used, to pass as the hint next time, and an error
// wrapping ErrNotFound when no process holds the socket: closed, or not
// yet accepted (a socket in the listener's queue has Inode 0; look it up
// again after the server's Accept).
func ShrinkSendBuffer(s Socket, bytes int, pidHint int) (pid int, err error) {
	if sysPidfdGetfd == 0 {
		return 0, ErrUnsupported
	}
	if s.Inode == 0 {
		return 0, fmt.Errorf("sockdiag: shrink %v->%v: not accepted yet, no process holds it: %w", s.Local, s.Remote, ErrNotFound)
	}
	pid, fd, err := findSocket(s.Inode, pidHint)
	if err != nil {
		return 0, err
	}
	pidfd, err := openPidfd(pid)
	if err != nil {
		return pid, err
	}
	defer syscall.Close(pidfd)
	dup, err := takeFD(pidfd, pid, fd)
	if err != nil {
		return pid, err
	}
	defer syscall.Close(dup)
	// The descriptor may have been closed and reused since /proc was read.
	var st syscall.Stat_t
	if err := syscall.Fstat(dup, &st); err != nil || st.Ino != s.Inode || st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return pid, fmt.Errorf("sockdiag: fd %d of process %d is no longer socket inode %d: %w", fd, pid, s.Inode, ErrNotFound)
	}
	// The kernel doubles the value for its bookkeeping overhead.
	if err := syscall.SetsockoptInt(dup, syscall.SOL_SOCKET, syscall.SO_SNDBUF, (bytes+1)/2); err != nil {
		return pid, fmt.Errorf("sockdiag: SO_SNDBUF on fd %d of process %d: %w", fd, pid, err)
	}
	return pid, nil
}

// openPidfd returns a pidfd for process pid (pidfd_open, Linux 5.3).
func openPidfd(pid int) (int, error) {
	pidfd, _, e := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if e == syscall.ENOSYS {
		return 0, fmt.Errorf("sockdiag: pidfd_open: %w", ErrUnsupported)
	}
	if e != 0 {
		return 0, fmt.Errorf("sockdiag: pidfd_open(%d): %w", pid, e)
	}
	return int(pidfd), nil
}

// takeFD duplicates descriptor fd of process pid, whose pidfd is pidfd,
// into this process (pidfd_getfd, Linux 5.6).
func takeFD(pidfd, pid, fd int) (int, error) {
	dup, _, e := syscall.Syscall(sysPidfdGetfd, uintptr(pidfd), uintptr(fd), 0)
	switch e {
	case 0:
		return int(dup), nil
	case syscall.ENOSYS:
		return 0, fmt.Errorf("sockdiag: pidfd_getfd (Linux 5.6): %w", ErrUnsupported)
	case syscall.EPERM:
		return 0, fmt.Errorf("sockdiag: taking socket fd %d of process %d needs ptrace rights over it: %w", fd, pid, e)
	}
	return 0, fmt.Errorf("sockdiag: pidfd_getfd(%d, %d): %w", pid, fd, e)
}

// findSocket returns a process and its descriptor for the socket with the
// given inode: pidHint first, then every process.
func findSocket(inode uint64, pidHint int) (pid, fd int, err error) {
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	if pidHint > 0 {
		if fd, ok := fdOf(pidHint, want); ok {
			return pidHint, fd, nil
		}
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, fmt.Errorf("sockdiag: %w", err)
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == pidHint {
			continue
		}
		if fd, ok := fdOf(pid, want); ok {
			return pid, fd, nil
		}
	}
	return 0, 0, fmt.Errorf("sockdiag: no process holds socket inode %d: %w", inode, ErrNotFound)
}

// fdOf returns the descriptor of process pid that links to want.
func fdOf(pid int, want string) (int, bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	fds, err := os.ReadDir(dir)
	if err != nil {
		return 0, false // gone, or not ours to read
	}
	for _, f := range fds {
		if l, err := os.Readlink(dir + f.Name()); err == nil && l == want {
			fd, err := strconv.Atoi(f.Name())
			return fd, err == nil
		}
	}
	return 0, false
}
