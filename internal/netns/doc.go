// Package netns runs servers under test inside a private Linux network
// namespace whose socket buffers are small.
//
// On Linux loopback a server's socket send buffer grows to
// net.ipv4.tcp_wmem's maximum, 4 MiB by default, so a client that stops
// reading blocks the server's Write only after megabytes, and a server in
// another process that holds a lock across that Write looks healthy. In a
// namespace made by [New], net.ipv4.tcp_wmem and net.ipv4.tcp_rmem top
// out at a socket buffer size ([DefaultSocketBufferSize], 16 KiB), so the same
// Write blocks after tens of kilobytes, as it does for a slow client on a
// real network.
//
// A [Namespace] runs code inside it ([Namespace.Do]), dials and listens
// from inside it ([Namespace.Dial], [Namespace.Listen]): a socket stays in
// the namespace it was made in, whichever thread uses it later. [Start]
// starts a command inside a fresh namespace, tells it where to listen
// ({port} and {addr} in its arguments, PORT and ADDR in its environment),
// waits until it accepts, and returns a [Server]: its address, a dial
// function that reaches it, its exit, the tail of its output, and Stop.
//
// Making a namespace needs CAP_SYS_ADMIN (root). Without it, and off
// Linux, New and Start fail with an error that says the remedy
// ([ErrPermission], [ErrUnsupported]); they never fall back to the host's
// network, whose buffers would make every verdict wrong. A command line
// tool run by an ordinary user can run itself again as root of a user
// namespace of its own, where it may make network namespaces
// ([NeedsReexec], [Reexec]; [ErrUserNamespaces] where those are
// disabled): a Go program is multithreaded and cannot enter a new user
// namespace itself.
//
// How: a goroutine locked to its OS thread calls unshare(CLONE_NEWNET),
// brings lo up, writes the two sysctls (files under /proc/sys/net are
// those of the opening thread's namespace) and keeps a file descriptor of
// the namespace. Every later operation runs on a new locked thread that
// joins the namespace with setns(2); a thread whose namespace changed is
// never unlocked, so the Go runtime discards it when its goroutine ends,
// and no other goroutine ever runs in the namespace. A command started
// from such a thread inherits the namespace.
//
// Imported by package properties (RunExec) and cmd/stallproof (check and
// proxy); imports only the standard library.
package netns
