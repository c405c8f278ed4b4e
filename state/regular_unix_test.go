//go:build unix

package state

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within fails the test when f does not return in time: the point of these
// tests is that nothing waits for a FIFO's writer or reads a device forever.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hangs", what)
		return nil
	}
}

// Every state file is read only as a regular file: a FIFO or a device gives
// one message, at once, and nothing is read from it.
func TestStateFilesNotRegular(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		make func(t *testing.T, path string) // makes the odd file for the lockfile at path
		op   func(path string) error
		want []string
	}{
		{"lockfile FIFO", mkfifo(""), openOnly, []string{"the lockfile", "named pipe (FIFO), not a regular file"}},
		{"lockfile /dev/zero link", link("", "/dev/zero"), openOnly, []string{"the lockfile", "symbolic link (to /dev/zero)", "replace the link"}},
		{"lockfile is /dev/zero", nil, func(string) error { _, err := Open(ctx, "/dev/zero"); return err }, []string{"/dev/zero is a character device"}},
		{"journal FIFO", mkfifo(".journal"), openOnly, []string{"the apply journal", "named pipe (FIFO)", "move it aside"}},
		{"journal /dev/zero link", link(".journal", "/dev/zero"), openOnly, []string{"the apply journal", "symbolic link (to /dev/zero)"}},
		{"lock FIFO", mkfifo(".lock"), lockOnly, []string{"lock file", "named pipe (FIFO)", "remove it"}},
		{"lock /dev/zero link", link(".lock", "/dev/zero"), lockOnly, []string{"lock file", "not a regular file", "remove it"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jobsync.lock.json")
			if tt.make != nil {
				tt.make(t, path)
			}
			err := within(t, tt.name, func() error { return tt.op(path) })
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
}

func openOnly(path string) error { _, err := Open(context.Background(), path); return err }

func lockOnly(path string) error {
	unlock, err := Lock(context.Background(), path, 0)
	if err == nil {
		_ = unlock()
	}
	return err
}

func mkfifo(suffix string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path+suffix, 0o644); err != nil {
			t.Skip("cannot make a FIFO:", err)
		}
	}
}

func link(suffix, target string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if _, err := os.Stat(target); err != nil {
			t.Skip(err)
		}
		must(t, os.Symlink(target, path+suffix))
	}
}
