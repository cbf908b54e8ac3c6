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
// orphaned (inode 0: FIN_WAIT, CLOSING, TIME_WAIT) or gone has been closed
// by its program. A server out of sight (another network namespace) is
// never seen open, so never counts as closed.
type farSocket struct {
	keys []string // "LOCAL REMOTE" as the table spells them, seen from the server
	open bool     // seen open
}

func newFarSocket(local, remote net.Addr) farSocket {
	l, ok1 := local.(*net.TCPAddr)
	r, ok2 := remote.(*net.TCPAddr)
	if !ok1 || !ok2 || !r.IP.IsLoopback() {
		return farSocket{}
	}
	var keys []string
	if l.IP.To4() != nil && r.IP.To4() != nil {
		keys = append(keys, procAddr4(r)+" "+procAddr4(l))
	}
	return farSocket{keys: append(keys, procAddr6(r)+" "+procAddr6(l))}
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

// closed reports whether the server's socket, once seen open, is closed.
func (f *farSocket) closed() bool {
	if len(f.keys) == 0 {
		return false
	}
	tab := procTable()
	for _, k := range f.keys {
		if inode, ok := tab[k]; ok {
			if inode != "0" {
				f.open = true
				return false
			}
			return f.open
		}
	}
	return f.open // gone
}

// The kernel's table, read at most once per procTTL for every watch.
var procTCP struct {
	mu   sync.Mutex
	at   time.Time
	rows map[string]string // "LOCAL REMOTE" → inode
}

const procTTL = 50 * time.Millisecond

func procTable() map[string]string {
	procTCP.mu.Lock()
	defer procTCP.mu.Unlock()
	if procTCP.rows != nil && time.Since(procTCP.at) < procTTL {
		return procTCP.rows
	}
	rows := make(map[string]string, len(procTCP.rows))
	// This thread's table, not /proc/net's (the main thread's), which a
	// locked goroutine may have moved to another network namespace.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir := "/proc/thread-self/net"
	if _, err := os.Stat(dir); err != nil {
		dir = "/proc/net" // before Linux 3.17
	}
	for _, name := range []string{dir + "/tcp", dir + "/tcp6"} {
		readProcTCP(name, rows)
	}
	procTCP.rows, procTCP.at = rows, time.Now()
	return rows
}

// readProcTCP adds the sockets listed in name to rows. The columns: sl,
// local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when,
// retrnsmt, uid, timeout, inode, ...
func readProcTCP(name string, rows map[string]string) {
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
		rows[fs[1]+" "+fs[2]] = fs[9]
	}
}
