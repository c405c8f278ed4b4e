package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LockInfo is the content of <lockfile>.lock while a process holds the lock:
// who holds it. It is shown to whoever finds the lock taken. It is only a
// description: the lock itself is the kernel's (see Lock), so a file left
// behind by a dead process means nothing.
type LockInfo struct {
	// ID is random and tells one holder apart from the next.
	ID      string    `json:"id"`
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	User    string    `json:"user"`
	Started time.Time `json:"started"`
	Command string    `json:"command"`
}

// LockPath is the lock file that guards the lockfile at path.
func LockPath(path string) string { return path + ".lock" }

// lockPoll is how often a waiting Lock tries again. The kernel would wake a
// blocking waiter at once, but a blocking call cannot be cancelled; 100 ms
// is nothing next to an apply.
const lockPoll = 100 * time.Millisecond

// maxLockInfo bounds what is read of a lock file: the JSON above is about
// 200 bytes.
const maxLockInfo = 64 << 10

// LockedError says another live process holds the lock.
type LockedError struct {
	Path string // the lock file
	// Owner is nil when the holder has not described itself (yet): it
	// writes the file just after it takes the lock.
	Owner *LockInfo
	// Waited is how long Lock waited before giving up.
	Waited time.Duration
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the lockfile is locked (%s)", e.Path)
	if e.Owner == nil {
		b.WriteString(" by a process that has not written its details yet")
	} else {
		o := e.Owner
		fmt.Fprintf(&b, " by pid %d on %s", o.PID, o.Host)
		if o.User != "" {
			fmt.Fprintf(&b, " (user %s)", o.User)
		}
		if o.Command != "" {
			fmt.Fprintf(&b, ", running %q", o.Command)
		}
		if !o.Started.IsZero() {
			fmt.Fprintf(&b, ", since %s", o.Started.UTC().Format(time.RFC3339))
		}
	}
	if e.Waited > 0 {
		fmt.Fprintf(&b, "; waited %s", e.Waited.Round(time.Millisecond))
	}
	b.WriteString(": another jobsync is using this lockfile; wait for it to finish, or raise --lock-timeout " +
		"to wait for it (the lock is released when that process ends, even if it is killed)")
	return b.String()
}

// Lock takes the exclusive lock of the lockfile at path, waiting up to
// timeout for a current holder to let go (0: try once). It returns the
// function that releases it; that function is safe to call more than once.
//
// The lock is the kernel's: flock(2) on <path>.lock (LockFileEx on
// Windows), held through an open file for as long as the process keeps it.
// When the process ends, however it ends (SIGKILL, OOM kill, a runner torn
// down), the kernel drops the lock, so no holder can ever be left behind: a
// lock file that remains after a crash, empty or not, is taken over by the
// next Lock without anyone's help. The file's content only describes the
// holder for LockedError.
//
// flock is per open file, so two Locks in one process exclude each other
// too. On NFS, Linux maps flock to POSIX byte-range locks, which the server
// arbitrates between clients (NFSv4, or v3 with lockd); a file system that
// does not lock at all makes Lock fail, never pretend.
func Lock(ctx context.Context, path string, timeout time.Duration) (unlock func() error, err error) {
	lp := LockPath(path)
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, owner, err := tryLock(lp)
		if err != nil {
			return nil, err
		}
		if f != nil {
			if err := describe(f); err != nil {
				_ = release(f, lp)
				return nil, fmt.Errorf("writing the lock file %s: %w%s", lp, err, diskHint(err))
			}
			var once sync.Once
			var relErr error
			return func() error {
				once.Do(func() { relErr = release(f, lp) })
				return relErr
			}, nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			le := &LockedError{Path: lp, Owner: owner}
			if timeout > 0 {
				le.Waited = time.Since(start).Truncate(time.Millisecond)
			}
			return nil, le
		}
		t := time.NewTimer(min(wait, lockPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// tryLock makes one attempt. It returns the locked file, or, when another
// process holds the lock, nil and that holder's description (nil when it has
// none yet).
func tryLock(lp string) (*os.File, *LockInfo, error) {
	for {
		f, err := openLockFile(lp)
		if err != nil {
			return nil, nil, err
		}
		held, err := lockFile(f)
		if err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("cannot lock %s: %w (the file system may not support locks: "+
				"point --lockfile at a local disk)", lp, err)
		}
		if held {
			owner, _ := readLockInfo(f)
			_ = f.Close()
			return nil, owner, nil
		}
		// A releasing holder removes the file before it lets go, so the
		// file this process opened may no longer be the one at lp: locking
		// it then would exclude nobody. Start again with the file at lp.
		if same, err := samePath(f, lp); err != nil || !same {
			_ = unlockFile(f)
			_ = f.Close()
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, fmt.Errorf("cannot lock %s: %w", lp, err)
			}
			continue
		}
		return f, nil, nil
	}
}

// openLockFile opens (or creates) the lock file. It must be a regular file
// and not a link: it is written to, and a link could aim that write at any
// file of the user's.
func openLockFile(lp string) (*os.File, error) {
	if fi, err := os.Lstat(lp); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the lock file %s is %s, not a regular file: jobsync never makes one like it; remove it", lp, describeMode(fi.Mode()))
	}
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE|openNoFollow, 0o644)
	if err != nil {
		if isLinkLoop(err) {
			return nil, fmt.Errorf("the lock file %s is a symbolic link, not a regular file: jobsync never makes one like it; remove it", lp)
		}
		return nil, fmt.Errorf("cannot create the lock file %s: %w%s", lp, err, diskHint(err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("the lock file %s is %s, not a regular file: jobsync never makes one like it; remove it", lp, describeMode(fi.Mode()))
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func samePath(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// describe writes who holds the lock into the locked file. It is not
// synced: after a machine crash no lock is held anyway.
func describe(f *os.File) error {
	data, err := json.MarshalIndent(newLockInfo(), "", "  ")
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(append(data, '\n'), 0)
	return err
}

// release removes the lock file and lets go of the lock, in that order where
// the platform allows (a process that opened the file meanwhile then sees
// that it is no longer at its path, and starts again). Failing to remove the
// file is no error: a file left behind blocks nobody.
func release(f *os.File, lp string) error {
	if removeBeforeUnlock {
		if same, err := samePath(f, lp); err == nil && same {
			_ = os.Remove(lp)
		}
	}
	err := unlockFile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if !removeBeforeUnlock {
		// Windows cannot remove an open file; another process may have it
		// open by now, and then the removal fails, harmlessly.
		_ = os.Remove(lp)
	}
	if err != nil {
		return fmt.Errorf("releasing the lock %s: %w", lp, err)
	}
	return nil
}

// LockHolder reports whether a live process holds the lock of the lockfile
// at path, and its description when it left one. A lock file left behind by
// a dead process is not held.
func LockHolder(path string) (owner *LockInfo, held bool, err error) {
	lp := LockPath(path)
	if _, err := os.Lstat(lp); errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	f, owner, err := tryLock(lp)
	if err != nil {
		return nil, false, err
	}
	if f == nil {
		return owner, true, nil
	}
	if err := release(f, lp); err != nil {
		return nil, false, err
	}
	return nil, false, nil
}

func readLockInfo(f *os.File) (*LockInfo, error) {
	data, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, maxLockInfo+1), maxLockInfo+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxLockInfo || len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("no description")
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

func newLockInfo() LockInfo {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return LockInfo{
		ID:      hex.EncodeToString(id[:]),
		PID:     os.Getpid(),
		Host:    hostname(),
		User:    userName(),
		Started: time.Now().UTC().Truncate(time.Second),
		Command: commandName(os.Args),
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// commandName is the program and its subcommand words ("jobsync apply"),
// stopping at the first flag or path-like argument: the full command line
// could carry secrets, and the lock file is readable by others.
func commandName(args []string) string {
	if len(args) == 0 {
		return ""
	}
	words := []string{filepath.Base(args[0])}
	for _, a := range args[1:] {
		if len(words) == 3 || a == "" || strings.ContainsAny(a, "-=/.:@") {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}
