package harness

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ListensHere reports whether the TCP socket listening on addr's port
// belongs to this process: a server that a test started in its own process
// and then reached by address, whose goroutines and heap the test can see.
// It reads /proc (Linux); elsewhere, or when /proc cannot say, known is
// false.
func ListensHere(addr string) (here, known bool) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return false, false
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return false, false
	}
	inodes := map[string]bool{}
	read := false
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		ok, err := listeningInodes(f, uint16(port), inodes)
		read = read || (ok && err == nil)
	}
	if !read {
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
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			return true, true
		}
	}
	return false, true
}

// listeningInodes adds to inodes the inode of every socket in the
// /proc/net/tcp-format file name that listens on port.
func listeningInodes(name string, port uint16, inodes map[string]bool) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
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
		inodes[fs[9]] = true
	}
	return true, sc.Err()
}
