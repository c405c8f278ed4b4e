//go:build windows

package state

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// Windows cannot remove an open file, so release closes it first.
const removeBeforeUnlock = false

// lockOffset is where the locked byte lies: far beyond the description, so
// that LockFileEx, whose locks are mandatory, never stops a reader of it.
const lockOffsetHigh = 0x7fffffff

// lockFile takes an exclusive LockFileEx on one byte of f, without waiting;
// held reports that another handle holds it.
func lockFile(f *os.File) (held bool, err error) {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return true, nil
	}
	return false, err
}

func unlockFile(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}
