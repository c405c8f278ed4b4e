package yamledit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A job file that is a symbolic link (a file shared between two projects,
// say) is edited where it lives: the link stays, the file it names gets the
// edit, and Restore puts that file back.
func TestWriteThroughLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "shared.yml")
	link := filepath.Join(dir, "jobs.yml")
	const old = "jobs:\n  a:\n    name: a # the name\n    timeout_seconds: 60\n"
	if err := os.WriteFile(real, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("shared.yml", link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	ctx := context.Background()
	res, err := ApplyFiles(ctx, map[string][]Edit{link: {{Job: "a", Path: []Step{{Field: "timeout_seconds"}}, Value: json.Number("600")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, res); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a file: %v, %v", fi.Mode(), err)
	}
	got, _ := os.ReadFile(real)
	if want := strings.Replace(old, "60", "600", 1); string(got) != want {
		t.Errorf("the linked file holds\n%s\nwant\n%s", got, want)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
	}
	if err := Restore(res); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(real); string(got) != old {
		t.Errorf("after Restore the linked file holds\n%s", got)
	}
}
