//go:build unix

package schema

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A pull request can add any file, and a bundle job's local paths are
// read for upload: a link to /dev/zero, a named pipe or a huge file
// swapped in under a job's python_file gets one message at its place,
// never an endless read, a hang, or the runner's memory.
func TestBundleHostileUploads(t *testing.T) {
	job := `bundle: {name: shop}
resources:
  jobs:
    a:
      name: a
      tasks:
        - task_key: py
          existing_cluster_id: x
          spark_python_task: {python_file: ./src/main.py}
`
	for _, tc := range []struct {
		name string
		make func(t *testing.T, p string)
		want string
	}{
		{"link to /dev/zero", func(t *testing.T, p string) {
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
		}, "cannot upload ./src/main.py: this is a device, not a regular file"},
		{"named pipe", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("mkfifo:", err)
			}
		}, "cannot upload ./src/main.py: this is a named pipe (FIFO), not a regular file"},
		{"over the upload cap", func(t *testing.T, p string) {
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			// Sparse: the size is what is checked, before any read.
			if err := f.Truncate(MaxUploadBytes + 1); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}, "cannot upload ./src/main.py: the file is "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bundleCase{files: map[string]string{"databricks.yml": job, "src/keep": ""}}
			_, problems := c.loadWith(t, func(dir string) {
				p := filepath.Join(dir, "src", "main.py")
				os.Remove(p)
				tc.make(t, p)
			})
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) || !strings.Contains(problems[0], "databricks.yml:") {
				t.Fatalf("problems %q, want one at databricks.yml with %q", problems, tc.want)
			}
		})
	}
}
