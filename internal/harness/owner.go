package harness

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// ListensHere reports whether the TCP socket listening on addr's port
// belongs to this process: a server that a test started in its own process
// and then reached by address, whose goroutines and heap the test can see.
// It reads /proc (Linux); elsewhere, or when /proc cannot say, known is
// false.
func ListensHere(addr string) (here, known bool) {
	inodes, err := ListeningInodes(addr)
	if err != nil {
		return false, false
	}
	if len(inodes) == 0 {
		return false, true
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false, false
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]"), 10, 64)
		if err == nil && slices.Contains(inodes, ino) {
			return true, true
		}
	}
	return false, true
}

// ListeningInodes returns the inodes of the TCP sockets (IPv4 and IPv6)
// that listen on addr's port, in this thread's network namespace, from
// /proc/thread-self/net/tcp and tcp6 (Linux). It fails when neither can
// be read.
func ListeningInodes(addr string) ([]uint64, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port of %s: %w", addr, err)
	}
	// /proc/net is the network namespace of the process's main thread,
	// which a locked goroutine may have moved to another (internal/netns
	// does, to make namespaces); /proc/thread-self/net is this thread's,
	// and this thread, locked for the read, is in the namespace this
	// process's sockets are made in.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir := "/proc/thread-self/net"
	if _, err := os.Stat(dir); err != nil {
		dir = "/proc/net" // before Linux 3.17
	}
	var inodes []uint64
	read := false
	var firstErr error
	for _, f := range []string{dir + "/tcp", dir + "/tcp6"} {
		err := listeningInodes(f, uint16(port), &inodes)
		read = read || err == nil
		if firstErr == nil {
			firstErr = err
		}
	}
	if !read {
		return nil, firstErr
	}
	return inodes, nil
}

// listeningInodes appends to inodes the inode of every socket in the
// /proc/net/tcp-format file name that listens on port.
func listeningInodes(name string, port uint16, inodes *[]uint64) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	want := fmt.Sprintf(":%04X", port)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || fs[3] != "0A" || !strings.HasSuffix(fs[1], want) {
			continue
		}
		if ino, err := strconv.ParseUint(fs[9], 10, 64); err == nil && ino != 0 {
			*inodes = append(*inodes, ino)
		}
	}
	return sc.Err()
}
