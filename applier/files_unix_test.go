//go:build unix

package applier

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A file the plan digested may be swapped before apply reads it: a named
// pipe or a link to /dev/zero is refused at once, and a grown file is read
// only one byte past the planned size (the digest check then fails).
func TestReadPlannedIsBounded(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe.py")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	if _, err := readPlanned(pipe, 10); err == nil || !strings.Contains(err.Error(), "no longer a regular file") {
		t.Errorf("pipe: %v", err)
	}
	zero := filepath.Join(dir, "zero.py")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	if _, err := readPlanned(zero, 10); err == nil || !strings.Contains(err.Error(), "no longer a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	grown := filepath.Join(dir, "grown.py")
	if err := os.WriteFile(grown, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := readPlanned(grown, 10)
	if err != nil || len(data) != 11 {
		t.Errorf("grown file: %d bytes, %v; want 11", len(data), err)
	}
}
