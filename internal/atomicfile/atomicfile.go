// Package atomicfile writes a file whole or not at all: readers see the old
// content or the new, never a part, whatever happens to the writer. It is
// for the files a command hands to the user (saved plans, exported YAML);
// the lockfile has its own, journaled, durability in package state. It
// must not decide paths or permissions: the caller does.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, with mode: a temporary file beside it,
// synced, then renamed over it.
func Write(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
