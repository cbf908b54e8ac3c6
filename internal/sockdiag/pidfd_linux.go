//go:build linux && (386 || amd64 || arm || arm64 || loong64 || ppc64 || ppc64le || riscv64 || s390x)

package sockdiag

// The pidfd system calls have the generic numbers on these architectures
// (asm-generic/unistd.h; x86's tables use the same since Linux 5.1).
const (
	sysPidfdOpen  = 434 // pidfd_open, Linux 5.3
	sysPidfdGetfd = 438 // pidfd_getfd, Linux 5.6
)
