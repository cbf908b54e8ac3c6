package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// serveLine is the command line that serves design on {addr}: this test
// binary, as the stallproof command (the check that starts it runs in a
// child process, whose environment makes it so).
func serveLine(design string) string {
	return "exec " + os.Args[0] + " serve -design " + design + " -addr {addr}"
}

// TestCheckExec: "stallproof check -exec" starts the server in a private
// network namespace, passes the reference and fails lock-across-write on
// progress.
func TestCheckExec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("check -exec makes network namespaces, which needs root")
	}
	t.Parallel()
	for _, tc := range onProgress {
		t.Run(tc.design, func(t *testing.T) {
			t.Parallel()
			out := tc.check(t, "-exec on "+tc.design, "-exec", serveLine(tc.design), "-props", "progress,delivery")
			if !strings.Contains(out, "in a private network namespace (socket buffers 16384 bytes)") {
				t.Errorf("check -exec's first line does not say where the server runs:\n%s", tail(out))
			}
		})
	}
}

// TestCheckExecBadInput: -exec with -addr, a tiny -exec-socket-buffer
// (also by its old name, -kernel-buffer), and a
// command that exits before it listens are each a clear error and exit
// status 2.
func TestCheckExecBadInput(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		want   string
		asRoot bool
	}{
		{[]string{"check", "-exec", "true", "-addr", "127.0.0.1:9000"}, "-exec, -addr: give one", false},
		{[]string{"check", "-exec", "true", "-exec-socket-buffer", "10"}, "-exec-socket-buffer: want at least 1024 bytes", false},
		{[]string{"check", "-exec", "true", "-kernel-buffer", "10"}, "-exec-socket-buffer: want at least 1024 bytes", false},
		{[]string{"check", "-exec", "echo cannot listen on $PORT; exit 4"}, "exit status 4; its output ends \"cannot listen on ", true},
	} {
		if tc.asRoot && os.Geteuid() != 0 {
			continue
		}
		var code int
		_, errs := capture(t, func() { code = run(context.Background(), tc.args) })
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, want 2 and %q in:\n%s", tc.args, code, tc.want, errs)
		}
	}
}
