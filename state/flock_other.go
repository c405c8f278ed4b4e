//go:build !windows && !(unix && !aix)

package state

import (
	"errors"
	"os"
	"runtime"
)

const removeBeforeUnlock = true

// No kernel file lock is wired up for this platform: refusing is better than
// letting two applies race.
func lockFile(*os.File) (bool, error) {
	return false, errors.New("jobsync has no file lock for " + runtime.GOOS)
}

func unlockFile(*os.File) error { return nil }
