//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package faultnet

const canReadRaw = false

func (r *spliceReader) rawRead(uintptr) bool { return true }
