package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// defaultMode is the mode of a new lockfile and journal. The lockfile holds
// job settings, which may carry secrets in spark_env_vars or parameters, so
// it is private until the user decides otherwise (an existing file keeps the
// mode it has).
const defaultMode fs.FileMode = 0o600

// writeFileAtomic replaces path with data so that, whatever instant the
// process or the machine dies at, path holds either the old content or the
// new, never a mixture or nothing:
//
//	temp file in the same directory (rename is only atomic within one file system)
//	→ write → fsync (else the rename can reach the disk before the data: golang.org/issue/22397)
//	→ close → rename over path → fsync the directory (else the rename itself can be lost).
//
// The temp file is removed on any failure. perm applies when path does not
// exist yet; an existing file keeps its mode.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path) // "." for a bare file name, never "" (CreateTemp would use $TMPDIR)
	if fi, statErr := os.Lstat(path); statErr == nil {
		if !fi.Mode().IsRegular() {
			// Renaming over a link would replace the link, not the file.
			return notRegular("lockfile", path, fi.Mode())
		}
		perm = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot create a temporary file next to %s: %w%s", path, err, diskHint(err))
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("setting the mode of %s: %w", name, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w%s", name, err, diskHint(err))
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("flushing %s to disk: %w%s", name, err, diskHint(err))
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w%s", name, err, diskHint(err))
	}
	if err = os.Rename(name, path); err != nil {
		return fmt.Errorf("replacing %s: %w%s", path, err, diskHint(err))
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("flushing directory %s to disk after replacing %s: %w", dir, filepath.Base(path), err)
	}
	return nil
}

// syncDir makes a rename, creation or removal inside dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot fsync a directory; their renames are
	// durable by other means, so this is not an error there.
	if errors.Is(err, errUnsupportedSync) {
		return nil
	}
	return err
}

// diskHint turns the usual disk errors into advice.
func diskHint(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return " (the directory or file is not writable by this user: fix its permissions, or point --lockfile elsewhere)"
	case errors.Is(err, errNoSpace):
		return " (the disk is full: free some space and run the command again; nothing was lost)"
	case errors.Is(err, errReadOnlyFS):
		return " (the file system is read-only: point --lockfile at a writable place)"
	}
	return ""
}
