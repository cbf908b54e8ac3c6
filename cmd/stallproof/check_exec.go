package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/stallproof/stallproof/internal/netns"
	"github.com/stallproof/stallproof/properties"
	"github.com/stallproof/stallproof/properties/report"
)

const checkExecHelp = `
With -exec, check starts the server itself instead: it runs the command
line with sh -c inside a private network namespace whose socket buffers top
out at -exec-socket-buffer bytes (16 KiB), so that a client that stops reading
blocks the server's writes after tens of kilobytes, as on a real network.
On the host's loopback a server's send buffer grows to 4 MiB, and a server
that blocks on a slow client can pass. The command learns where to listen
from {port} and {addr} in the command line (replaced by a free port and by
127.0.0.1:port) and from the environment variables PORT and ADDR:

  stallproof check -exec 'python3 chat.py --port {port}' \
      -request 'PUB {id}-{n}' -reply OK

check waits up to 10 s for the command to accept connections, stops it at
the end (SIGTERM to its process group, SIGKILL 5 s later), and, if it exits
early, shows the last lines of its output. -exec and -addr are exclusive.
Namespaces need Linux, and root or unprivileged user namespaces: not run
as root, check runs itself again in a user namespace of its own. Where
neither works it exits with status 2 and says what to enable: it never
falls back to the host's buffers.
`

// execFlags are check's flags for a server it starts itself.
type execFlags struct {
	command *string
	sockBuf *int
}

// addExecFlags adds -exec and -exec-socket-buffer (once -kernel-buffer) to
// check's flags.
func addExecFlags(fs *flag.FlagSet, args []string) *execFlags {
	ex := &execFlags{
		command: fs.String("exec", "", "`command line` of a server to start (with sh -c) in a private network namespace, instead of -addr"),
		sockBuf: fs.Int("exec-socket-buffer", netns.DefaultSocketBufferSize, "maximum socket buffer in -exec's namespace, in `bytes`"),
	}
	oldFlagName(fs, "kernel-buffer", "exec-socket-buffer")
	addHelp(fs, args, checkExecHelp)
	return ex
}

// prepare checks the flags once parsed. With -exec, when this process is
// not root, it runs the whole check again in a child in a user namespace,
// where it may make network namespaces, and reports done with the child's
// verdict.
func (ex *execFlags) prepare(ctx context.Context, fs *flag.FlagSet, args []string) (done bool, err error) {
	if err := ex.validate(fs); err != nil {
		return false, err
	}
	if !ex.set() || !netns.NeedsReexec() {
		return false, nil
	}
	code, err := netns.Reexec(ctx, append([]string{"check"}, args...))
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "stallproof check: %v\n", err)
		return true, errUsage
	case code == 0:
		return true, nil
	case code == 2:
		return true, errUsage
	}
	return true, fmt.Errorf("the check, run in a user namespace, exited with status %d", code)
}

// validate checks the flags once parsed.
func (ex *execFlags) validate(fs *flag.FlagSet) error {
	addrSet := false
	fs.Visit(func(f *flag.Flag) { addrSet = addrSet || f.Name == "addr" })
	switch {
	case *ex.command != "" && addrSet:
		return flagError(fs, "-exec, -addr", "give one: -exec starts the server, -addr names one already running")
	case *ex.sockBuf < 1024:
		return flagError(fs, "-exec-socket-buffer", "want at least 1024 bytes, got %d", *ex.sockBuf)
	}
	return nil
}

// set reports whether check starts the server.
func (ex *execFlags) set() bool { return *ex.command != "" }

// target describes what check checks, for its first line.
func (ex *execFlags) target(addr string) string {
	if !ex.set() {
		return addr
	}
	return fmt.Sprintf("`%s` in a private network namespace (socket buffers %d bytes)", *ex.command, *ex.sockBuf)
}

// check runs the suite against the server at addr, or against the one
// -exec starts.
func (ex *execFlags) check(out io.Writer, addr string, opts []properties.Option) ([]report.Verdict, error) {
	if !ex.set() {
		return properties.CheckAddr(out, addr, opts...)
	}
	opts = append(opts, properties.ExecSocketBufferSize(*ex.sockBuf))
	return properties.CheckExec(out, []string{"sh", "-c", *ex.command}, opts...)
}
