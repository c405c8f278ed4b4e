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

// openNoFollow makes an open fail on a symbolic link and return at once on a
// FIFO, instead of following the one or waiting for a writer on the other.
const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// isLinkLoop tells the error of an O_NOFOLLOW open of a link (ELOOP; EMLINK
// on FreeBSD).
func isLinkLoop(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}
