package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// LockInfo is the content of <lockfile>.lock: who holds the lock. It is
// shown to whoever finds the lock taken, so they can tell a running apply
// from a dead one.
type LockInfo struct {
	// ID is random and tells this holder apart from a later one, so that
	// an unlock never removes a lock someone else took after a break.
	ID      string    `json:"id"`
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	User    string    `json:"user"`
	Started time.Time `json:"started"`
	Command string    `json:"command"`
}

// LockPath is the lock file that guards the lockfile at path.
func LockPath(path string) string { return path + ".lock" }

// lockPoll is how often a waiting Lock looks again.
const lockPoll = 200 * time.Millisecond

type liveness int

const (
	unknown liveness = iota
	alive
	dead
)

// LockedError says another jobsync holds the lock.
type LockedError struct {
	Path string // the lock file
	// Owner is nil when the lock file could not be read (for example a
	// holder that died between creating and filling it).
	Owner *LockInfo
	// Stale is true when the owner ran on this machine and its process no
	// longer exists: nobody will ever release the lock.
	Stale bool
	// Waited is how long Lock waited before giving up.
	Waited time.Duration
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the lockfile is locked (%s)", e.Path)
	if e.Owner == nil {
		b.WriteString(" by an unknown owner (the lock file is empty or unreadable)")
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
	switch {
	case e.Stale:
		b.WriteString(": that process is no longer running, so the lock is stale; break it with `jobsync state unlock`")
	case e.Owner != nil && e.Owner.Host != "" && e.Owner.Host == hostname():
		b.WriteString(": that process is still running; wait for it to finish (or raise --lock-timeout), " +
			"and break the lock with `jobsync state unlock` only if it is hung")
	default:
		b.WriteString(": if that apply is still running, wait for it (or raise --lock-timeout); " +
			"if it died, break the lock with `jobsync state unlock`")
	}
	return b.String()
}

// Lock takes the exclusive lock of the lockfile at path, waiting up to
// timeout for a current holder to release it (0: try once). It returns the
// function that releases it; that function is safe to call more than once
// and never removes a lock that is no longer its own.
//
// The lock is a file, <path>.lock, created with O_CREATE|O_EXCL, so it works
// on every file system and between machines sharing one (unlike flock, which
// NFS may silently ignore). Its price is that a holder killed with SIGKILL
// leaves it behind: LockedError then says whether the owner is gone, and
// BreakLock removes it.
func Lock(ctx context.Context, path string, timeout time.Duration) (unlock func() error, err error) {
	lp := LockPath(path)
	info := newLockInfo()
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		err := createLock(lp, data)
		if err == nil {
			return unlocker(lp, info.ID), nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			le := lockedError(lp)
			le.Waited = time.Since(start).Truncate(time.Millisecond)
			if timeout == 0 {
				le.Waited = 0
			}
			return nil, le
		}
		wait = min(wait, lockPoll)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// createLock creates the lock file holding data. A holder that cannot write
// its owner information removes the file again rather than leave an
// anonymous lock behind.
func createLock(lp string, data []byte) error {
	f, err := os.OpenFile(lp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("cannot create the lock file %s: %w%s", lp, err, diskHint(err))
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(lp))
	}
	if err != nil {
		_ = os.Remove(lp)
		return fmt.Errorf("writing the lock file %s: %w%s", lp, err, diskHint(err))
	}
	return nil
}

func lockedError(lp string) *LockedError {
	le := &LockedError{Path: lp}
	owner, err := readLockInfo(lp)
	if err != nil {
		return le
	}
	le.Owner = owner
	le.Stale = owner.Host == hostname() && processState(owner.PID) == dead
	return le
}

func unlocker(lp, id string) func() error {
	return func() error {
		owner, err := readLockInfo(lp)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil // already released (or broken)
		case err != nil:
			return fmt.Errorf("releasing the lock %s: %w", lp, err)
		case owner.ID != id:
			return fmt.Errorf("the lock %s was broken while this apply held it and is now held by pid %d on %s; "+
				"it was left in place", lp, owner.PID, owner.Host)
		}
		if err := os.Remove(lp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("releasing the lock %s: %w (remove the file by hand)", lp, err)
		}
		return nil
	}
}

// ReadLockInfo returns the owner of the lock of the lockfile at path;
// the error wraps fs.ErrNotExist when it is not locked.
func ReadLockInfo(path string) (*LockInfo, error) {
	return readLockInfo(LockPath(path))
}

func readLockInfo(lp string) (*LockInfo, error) {
	data, err := os.ReadFile(lp)
	if err != nil {
		return nil, err
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("the lock file %s is unreadable: %v", lp, err)
	}
	return &info, nil
}

// BreakLock removes the lock of the lockfile at path, whoever holds it. It
// is the explicit way out of a stale lock (`jobsync state unlock`); breaking
// the lock of a running apply lets two applies race, so callers should show
// the owner (ReadLockInfo) first.
func BreakLock(path string) error {
	lp := LockPath(path)
	err := os.Remove(lp)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the lockfile %s is not locked (no %s): %w", path, lp, fs.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("breaking the lock %s: %w%s", lp, err, diskHint(err))
	}
	return nil
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
