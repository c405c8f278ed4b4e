//go:build unix

package lease

import (
	"errors"
	"syscall"
)

// processGone reports that no process with this id exists (signal 0 checks
// without delivering anything; EPERM means it exists under another user).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
