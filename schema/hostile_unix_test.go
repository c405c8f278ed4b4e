//go:build unix

package schema

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestHostileFiles(t *testing.T) {
	t.Run("link to /dev/zero", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")); err != nil {
			t.Fatal(err)
		}
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{"zero.yaml: a symbolic link to /dev/zero, outside "})
	})
	t.Run("/dev/zero named", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		ds, err := loadDir(t, dir, "/dev/zero")
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{"/dev/zero: this is a device, not a regular file: jobsync reads only regular files"})
	})
	t.Run("named pipe", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
			t.Skip("mkfifo:", err)
		}
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{"pipe.yaml: this is a named pipe (FIFO), not a regular file"})
	})
	t.Run("link to a named pipe", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
			t.Skip("mkfifo:", err)
		}
		if err := os.Symlink("pipe", filepath.Join(dir, "b.yaml")); err != nil {
			t.Fatal(err)
		}
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{"b.yaml: this is a named pipe (FIFO), not a regular file"})
	})
	t.Run("too large", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		sparse(t, filepath.Join(dir, "b.yaml"), MaxFileBytes+1)
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{"b.yaml: the file is 8.0 MiB; jobsync reads YAML files of at most 8 MiB: split it into several files"})
	})
	t.Run("too much in all", func(t *testing.T) {
		dir := t.TempDir()
		for i := range MaxTotalBytes/MaxFileBytes + 1 {
			sparse(t, filepath.Join(dir, "f"+string(rune('a'+i))+".yaml"), MaxFileBytes-1000)
		}
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{": the job files add up to 72.0 MiB; jobsync reads at most 64 MiB of YAML at once"})
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads every file (the reliability suite runs this as nobody)")
		}
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		writeFile(t, filepath.Join(dir, "b.yaml"), okJob)
		if err := os.Chmod(filepath.Join(dir, "b.yaml"), 0); err != nil {
			t.Fatal(err)
		}
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{"b.yaml: cannot read this file (permission denied): make it readable by this user"})
	})
	t.Run("links to directories are not followed", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		writeFile(t, filepath.Join(dir, "sub", "b.yaml"), strings.Replace(okJob, "  a:", "  b:", 1))
		for name, target := range map[string]string{"up": "..", "self": ".", "loop.yaml": "../sub", "root": "/"} {
			if err := os.Symlink(target, filepath.Join(dir, "sub", name)); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := Load(context.Background(), []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Files) != 2 || len(cfg.Jobs) != 2 {
			t.Errorf("read %v (%d jobs), want a.yaml and sub/b.yaml, 2 jobs", cfg.Files, len(cfg.Jobs))
		}
	})
	t.Run("link loop", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		if err := os.Symlink("b.yaml", filepath.Join(dir, "c.yaml")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("c.yaml", filepath.Join(dir, "b.yaml")); err != nil {
			t.Fatal(err)
		}
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{
			"b.yaml: a symbolic link in a loop (it leads back to itself): remove it",
			"c.yaml: a symbolic link in a loop (it leads back to itself): remove it",
		})
	})
	t.Run("broken link", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		if err := os.Symlink("gone.yaml", filepath.Join(dir, "b.yaml")); err != nil {
			t.Fatal(err)
		}
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{"b.yaml: a symbolic link to a file that does not exist"})
	})
	t.Run("link out of the tree", func(t *testing.T) {
		outside := t.TempDir()
		writeFile(t, filepath.Join(outside, "secret.yaml"), "token: dapi0123\n")
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "b.yaml")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../"+filepath.Base(outside)+"/secret.yaml", filepath.Join(dir, "c.yaml")); err != nil {
			t.Fatal(err)
		}
		ds, err := loadDir(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{
			"b.yaml: a symbolic link to " + filepath.ToSlash(outside) + "/secret.yaml, outside ",
			"c.yaml: a symbolic link to " + filepath.ToSlash(outside) + "/secret.yaml, outside ",
		})
		for _, d := range ds {
			if strings.Contains(d, "dapi0123") {
				t.Errorf("the linked file's content is shown: %s", d)
			}
		}
		// Named on the command line, the same file is read.
		ds, err = loadDir(t, filepath.Join(dir, "b.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		expectDiags(t, ds, []string{`unknown top-level key "token"`})
	})
	t.Run("link inside the tree is read once", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "shared", "a.yaml"), okJob)
		if err := os.Symlink("shared/a.yaml", filepath.Join(dir, "b.yaml")); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(context.Background(), []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Jobs) != 1 || len(cfg.Files) != 1 {
			t.Errorf("read %v (%d jobs), want one file and one job", cfg.Files, len(cfg.Jobs))
		}
	})
	t.Run("project file is a named pipe", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.yaml"), okJob)
		if err := syscall.Mkfifo(filepath.Join(dir, "jobsync.yaml"), 0o644); err != nil {
			t.Skip("mkfifo:", err)
		}
		_, err := loadDir(t, dir)
		if err == nil || !strings.Contains(err.Error(), "jobsync.yaml: this is a named pipe (FIFO), not a regular file") {
			t.Errorf("got %v, want the project file refused as a named pipe", err)
		}
	})
}
