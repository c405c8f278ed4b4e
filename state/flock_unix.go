//go:build unix && !aix

package state

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// The unlink-then-unlock order of release is safe here: a file can be
// removed while open, and a waiter that then locks the removed file notices.
const removeBeforeUnlock = true

// lockFile takes flock(LOCK_EX|LOCK_NB) on f; held reports that another open
// file holds it.
func lockFile(f *os.File) (held bool, err error) {
	err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

func unlockFile(f *os.File) error { return flock(f, unix.LOCK_UN) }

func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}
