package faultnet

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

const canWatch = true

const (
	pollERR   = 0x8
	pollRDHUP = 0x2000
)

// probeSocket polls fd without waiting and without reading: a FIN shows as
// POLLRDHUP even behind unread data; an RST as POLLERR, whose error it
// takes.
func probeSocket(fd uintptr) sockState {
	pfd := struct {
		fd             int32
		events, revent int16
	}{fd: int32(fd), events: pollRDHUP}
	var ts syscall.Timespec
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if e != syscall.EINTR {
			break
		}
	}
	var st sockState
	st.fin = pfd.revent&pollRDHUP != 0
	if pfd.revent&pollERR != 0 {
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err == nil && v != 0 {
			st.err = syscall.Errno(v)
		} else {
			st.err = syscall.ECONNRESET
		}
	}
	return st
}

// farSocket finds the far end of a loopback TCP connection, the server's
// socket, in the kernel's table (/proc/net/tcp and tcp6). A socket that
// was seen open (with an inode: a file descriptor refers to it) and is now
// orphaned (inode 0) or gone has been closed by its program; so has an
// orphan in FIN_WAIT, CLOSING or TIME_WAIT, seen open or not (an orphan
// still ESTABLISHED waits in the accept queue). The table is the one of the namespace our own socket is
// in: a server in a private network namespace (the suite's RunExec) is
// reached by a socket made in that namespace, so both ends are listed
// there. Where that table cannot be read (joining the namespace needs
// CAP_SYS_ADMIN), the server is not seen at all, so never counts as
// closed.
type farSocket struct {
	keys []string        // "LOCAL REMOTE" as the table spells them, seen from the server
	open bool            // seen open
	raw  syscall.RawConn // our end: its network namespace holds the table
}

func newFarSocket(local, remote net.Addr, raw syscall.RawConn) farSocket {
	l, ok1 := local.(*net.TCPAddr)
	r, ok2 := remote.(*net.TCPAddr)
	if !ok1 || !ok2 || !r.IP.IsLoopback() {
		return farSocket{}
	}
	var keys []string
	if l.IP.To4() != nil && r.IP.To4() != nil {
		keys = append(keys, procAddr4(r)+" "+procAddr4(l))
	}
	return farSocket{keys: append(keys, procAddr6(r)+" "+procAddr6(l)), raw: raw}
}

func procAddr4(a *net.TCPAddr) string {
	ip := a.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
}

func procAddr6(a *net.TCPAddr) string {
	ip := a.IP.To16()
	var b strings.Builder
	for i := 0; i < 16; i += 4 {
		fmt.Fprintf(&b, "%02X%02X%02X%02X", ip[i+3], ip[i+2], ip[i+1], ip[i])
	}
	fmt.Fprintf(&b, ":%04X", a.Port)
	return b.String()
}

// closed reports whether the server's socket is closed: seen open and now
// orphaned or gone, or orphaned past ESTABLISHED (a close sent its FIN, or
// queued it behind unsent data). An orphan still ESTABLISHED is one not
// yet accepted, not a closed one.
func (f *farSocket) closed() bool {
	if len(f.keys) == 0 {
		return false
	}
	tab := f.table()
	for _, k := range f.keys {
		if row, ok := tab[k]; ok {
			if row.inode != "0" {
				f.open = true
				return false
			}
			return f.open || row.state != tcpEstablished
		}
	}
	return f.open // gone
}

// tcpEstablished is ESTABLISHED as /proc/net/tcp spells a state.
const tcpEstablished = "01"

// procRow is a socket in the kernel's table.
type procRow struct{ state, inode string }

// table returns the kernel's table of the network namespace that our end
// of the connection is in.
func (f *farSocket) table() map[string]procRow {
	ns, ino := socketNetns(f.raw)
	if ns < 0 {
		return procTable(0, -1)
	}
	defer syscall.Close(ns)
	return procTable(ino, ns)
}

// siocgskns is SIOCGSKNS (Linux 4.9): an ioctl on a socket that returns a
// new descriptor of the socket's network namespace.
const siocgskns = 0x894C

// socketNetns returns a descriptor of raw's network namespace and the
// namespace's inode, or -1 and 0 if it is this thread's (or unknown).
func socketNetns(raw syscall.RawConn) (fd int, ino uint64) {
	if raw == nil {
		return -1, 0
	}
	fd = -1
	_ = raw.Control(func(s uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_IOCTL, s, siocgskns, 0)
		if e == 0 {
			fd = int(r)
		}
	})
	if fd < 0 {
		return -1, 0
	}
	var ns, own syscall.Stat_t
	if syscall.Fstat(fd, &ns) != nil || syscall.Stat("/proc/thread-self/ns/net", &own) != nil || ns.Ino == own.Ino {
		syscall.Close(fd)
		return -1, 0
	}
	return fd, ns.Ino
}

// The kernel's tables, one per network namespace (0: this thread's), each
// read at most once per procTTL for every watch.
var procTCP struct {
	mu   sync.Mutex
	tabs map[uint64]*procTab
}

type procTab struct {
	at   time.Time
	rows map[string]procRow // by "LOCAL REMOTE"
}

const procTTL = 50 * time.Millisecond

// procTable returns the table of namespace ino (0: this thread's), which
// ns, if not -1, is a descriptor of.
func procTable(ino uint64, ns int) map[string]procRow {
	procTCP.mu.Lock()
	defer procTCP.mu.Unlock()
	tab := procTCP.tabs[ino]
	if tab != nil && time.Since(tab.at) < procTTL {
		return tab.rows
	}
	rows := map[string]procRow{}
	if ns < 0 {
		readThreadTables(rows)
	} else if !readTablesIn(ns, rows) {
		return rows // not allowed to join it: nothing is seen
	}
	if procTCP.tabs == nil {
		procTCP.tabs = map[uint64]*procTab{}
	}
	if len(procTCP.tabs) > 64 { // namespaces come and go: forget the old
		clear(procTCP.tabs)
	}
	procTCP.tabs[ino] = &procTab{at: time.Now(), rows: rows}
	return rows
}

// readThreadTables adds this thread's tables to rows: not /proc/net's (the
// main thread's), which a locked goroutine may have moved to another
// network namespace.
func readThreadTables(rows map[string]procRow) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir := "/proc/thread-self/net"
	if _, err := os.Stat(dir); err != nil {
		dir = "/proc/net" // before Linux 3.17
	}
	for _, name := range []string{dir + "/tcp", dir + "/tcp6"} {
		readProcTCP(name, rows)
	}
}

// readTablesIn reads the tables of namespace ns into rows, from a thread
// that joins it and is then thrown away (a goroutine that ends locked
// ends its thread), so no other goroutine ever runs in that namespace.
func readTablesIn(ns int, rows map[string]procRow) bool {
	nr, ok := setnsCall[runtime.GOARCH]
	if !ok {
		return false
	}
	done := make(chan bool, 1)
	go func() {
		runtime.LockOSThread() // never unlocked
		if _, _, e := syscall.RawSyscall(nr, uintptr(ns), syscall.CLONE_NEWNET, 0); e != 0 {
			done <- false
			return
		}
		readProcTCP("/proc/thread-self/net/tcp", rows)
		readProcTCP("/proc/thread-self/net/tcp6", rows)
		done <- true
	}()
	return <-done
}

// setnsCall is setns(2)'s number, which package syscall does not define.
var setnsCall = map[string]uintptr{
	"amd64": 308, "arm64": 268, "riscv64": 268, "loong64": 268,
	"386": 346, "arm": 375, "ppc64": 350, "ppc64le": 350, "s390x": 339,
}

// readProcTCP adds the sockets listed in name to rows. The columns: sl,
// local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when,
// retrnsmt, uid, timeout, inode, ...
func readProcTCP(name string, rows map[string]procRow) {
	f, err := os.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || fs[0] == "sl" {
			continue
		}
		rows[fs[1]+" "+fs[2]] = procRow{state: fs[3], inode: fs[9]}
	}
}
