package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// A Namespace is a private network namespace with loopback up and small
// socket buffers. Its methods are safe for concurrent use.
type Namespace struct {
	buf int

	mu sync.RWMutex // held for reading while a thread joins; Close takes it to close fd
	fd int          // /proc/thread-self/ns/net of the namespace; -1 once closed
}

// New makes a private network namespace whose lo is up and whose
// net.ipv4.tcp_wmem and net.ipv4.tcp_rmem maxima are sockBuf bytes
// (DefaultSocketBufferSize if sockBuf <= 0). Close releases it.
func New(sockBuf int) (*Namespace, error) {
	if sockBuf <= 0 {
		sockBuf = DefaultSocketBufferSize
	}
	type made struct {
		fd  int
		err error
	}
	ch := make(chan made, 1)
	go func() {
		// Never unlocked: once its namespace has changed, the thread must
		// not run other goroutines; the runtime discards it when this one
		// ends.
		runtime.LockOSThread()
		fd, err := setUp(sockBuf)
		ch <- made{fd, err}
	}()
	m := <-ch
	if m.err != nil {
		return nil, m.err
	}
	return &Namespace{buf: sockBuf, fd: m.fd}, nil
}

// setUp moves the calling thread into a new network namespace and sets it
// up; it returns a file descriptor of the namespace.
func setUp(sockBuf int) (int, error) {
	if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
		if errors.Is(err, syscall.EPERM) {
			return -1, fmt.Errorf("netns: unshare(CLONE_NEWNET): %w: %w", err, ErrPermission)
		}
		return -1, fmt.Errorf("netns: unshare(CLONE_NEWNET): %w", err)
	}
	if err := loopbackUp(); err != nil {
		return -1, fmt.Errorf("netns: bringing lo up: %w", err)
	}
	v := sysctlValue(sockBuf)
	for _, name := range []string{"tcp_wmem", "tcp_rmem"} {
		// /proc/sys/net is resolved for the opening thread: this one.
		if err := os.WriteFile("/proc/sys/net/ipv4/"+name, []byte(v), 0); err != nil {
			return -1, fmt.Errorf("netns: setting net.ipv4.%s: %w", name, err)
		}
	}
	fd, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("netns: opening the namespace: %w", err)
	}
	return fd, nil
}

// ifreq is struct ifreq with the flags member of its union.
type ifreq struct {
	name  [syscall.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// loopbackUp sets IFF_UP on lo in the calling thread's namespace.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req ifreq
	copy(req.name[:], "lo")
	if err := ioctl(fd, syscall.SIOCGIFFLAGS, &req); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	req.flags |= syscall.IFF_UP
	if err := ioctl(fd, syscall.SIOCSIFFLAGS, &req); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}

func ioctl(fd int, op uintptr, req *ifreq) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), op, uintptr(unsafe.Pointer(req))); errno != 0 {
		return errno
	}
	return nil
}

// Do runs f on a new OS thread that has joined the namespace, and returns
// its error. Sockets f makes are in the namespace; so is a command f
// starts. f must not start goroutines that make sockets: they run on
// other threads, in the host's namespace.
func (ns *Namespace) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see New
		if err := ns.join(); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// join moves the calling thread, which must be locked, into the
// namespace.
func (ns *Namespace) join() error {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	if ns.fd < 0 {
		return errors.New("netns: namespace closed")
	}
	nr, ok := setnsCall[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("netns: setns: no syscall number known for %s: %w", runtime.GOARCH, ErrUnsupported)
	}
	if _, _, errno := syscall.RawSyscall(nr, uintptr(ns.fd), syscall.CLONE_NEWNET, 0); errno != 0 {
		return fmt.Errorf("netns: setns: %w", errno)
	}
	return nil
}

// setnsCall is setns(2)'s number, which package syscall does not define
// (golang.org/x/sys/unix, which does, is not a dependency of this module).
var setnsCall = map[string]uintptr{
	"amd64": 308, "arm64": 268, "riscv64": 268, "loong64": 268,
	"386": 346, "arm": 375, "ppc64": 350, "ppc64le": 350, "s390x": 339,
}

// Close releases the namespace. It ends when its last socket is closed
// and its last process exits.
func (ns *Namespace) Close() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.fd < 0 {
		return nil
	}
	err := syscall.Close(ns.fd)
	ns.fd = -1
	return err
}

// Start starts cmd inside the namespace, from a thread that has joined
// it, and returns a channel that receives cmd.Wait's result: do not call
// cmd.Wait yourself. The thread stays with cmd until Wait returns, so a
// Pdeathsig in cmd.SysProcAttr fires only if this process dies first.
func (ns *Namespace) Start(cmd *exec.Cmd) (<-chan error, error) {
	started, waited := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see New
		if err := ns.join(); err != nil {
			started <- err
			return
		}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		waited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return waited, nil
}

// procAttr puts a server's command in its own process group, which Stop
// signals, and kills it if this process dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
