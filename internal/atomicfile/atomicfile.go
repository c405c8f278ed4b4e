// Package atomicfile writes a file whole or not at all: readers see the old
// content or the new, never a part, whatever happens to the writer or the
// machine. It is for the files a command hands to the user (saved plans,
// exported YAML, the job files pull edits); the lockfile has its own,
// journaled, durability in package state (which may import nothing of the
// project). It must not decide paths or permissions: the caller does.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, with mode: a temporary file beside it,
// synced, renamed over it, and the directory synced (else the rename
// itself can be lost). A path that is a symbolic link is written through:
// the link stays and the file it points to gets data (renaming over the
// link would replace it with a copy and leave the file it names as it
// was). What it points to must be a regular file.
func Write(path string, data []byte, mode os.FileMode) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(target); err != nil {
			return err
		} else if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s links to %s, which is not a regular file", path, target)
		}
		path = target
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Some file systems cannot sync a directory; their renames are
	// durable by other means, so a failure here is not reported.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
