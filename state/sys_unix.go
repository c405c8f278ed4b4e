//go:build unix

package state

import (
	"errors"
	"syscall"
)

var (
	errUnsupportedSync error = syscall.EINVAL
	errNoSpace         error = syscall.ENOSPC
	errReadOnlyFS      error = syscall.EROFS
)

// processState reports whether a process with this id runs on this machine.
// Signal 0 checks existence without delivering anything; EPERM means it
// exists but belongs to another user.
func processState(pid int) liveness {
	if pid <= 0 {
		return unknown
	}
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return alive
	case errors.Is(err, syscall.ESRCH):
		return dead
	}
	return unknown
}
