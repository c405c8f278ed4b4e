package state

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Uploaded files are recorded like jobs: durable in the journal when
// RecordFile returns, replayed after a crash, folded in by Commit, and
// left out of a lockfile that has none.
func TestUploadedFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p/dev")
	if err := s.Record(ctx, "a", job(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "files") {
		t.Errorf("a lockfile without uploads mentions files:\n%s", b)
	}
	nb := UploadedFile{Digest: "sha256:aa", Size: 12, Source: "src/nb.py"}
	if err := s.RecordFile(ctx, "/Workspace/x/files/src/nb", nb); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFile(ctx, "/Workspace/x/files/old.py", UploadedFile{Digest: "sha256:bb", Size: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetFile(ctx, "/Workspace/x/files/old.py"); err != nil {
		t.Fatal(err)
	}
	// A crash before Commit: the next Open replays the journal.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, path)
	if got, ok := s2.UploadedFile("/Workspace/x/files/src/nb"); !ok || got != nb {
		t.Fatalf("replayed upload %+v %v", got, ok)
	}
	if _, ok := s2.UploadedFile("/Workspace/x/files/old.py"); ok {
		t.Fatal("a forgotten file came back")
	}
	if err := s2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f := readLock(t, path)
	if len(f.Files) != 1 || f.Files["/Workspace/x/files/src/nb"] != nb || f.Serial != 2 {
		t.Errorf("committed %+v serial %d", f.Files, f.Serial)
	}
	// Recording the same again changes nothing on disk.
	if err := s2.RecordFile(ctx, "/Workspace/x/files/src/nb", nb); err != nil {
		t.Fatal(err)
	}
	if err := s2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if f := readLock(t, path); f.Serial != 2 {
		t.Errorf("an unchanged commit moved the serial to %d", f.Serial)
	}
	for _, bad := range []struct{ path, digest string }{{"relative/x", "sha256:a"}, {"/x", ""}} {
		if err := s2.RecordFile(ctx, bad.path, UploadedFile{Digest: bad.digest}); err == nil {
			t.Errorf("RecordFile(%q, %q) accepted", bad.path, bad.digest)
		}
	}
}

func TestLockfileRefusesBadFiles(t *testing.T) {
	base := `{"version": 1, "workspace": "https://h", "project": "p", "lineage": "l", "serial": 1, "jobs": {}, "files": %s}`
	for _, files := range []string{`{"x": {"digest": "sha256:a", "size": 1}}`, `{"/x": {"size": 1}}`, `{"/x": {"digest": "d", "extra": 1}}`} {
		if _, err := Read(strings.NewReader(strings.Replace(base, "%s", files, 1))); err == nil {
			t.Errorf("files %s accepted", files)
		}
	}
}
