//go:build linux && !(386 || amd64 || arm || arm64 || loong64 || ppc64 || ppc64le || riscv64 || s390x)

package sockdiag

// Architectures with their own numbering (mips, alpha): ShrinkSendBuffer
// returns ErrUnsupported.
const (
	sysPidfdOpen  = 0
	sysPidfdGetfd = 0
)
