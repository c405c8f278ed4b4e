package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func job(id int64) Job {
	raw, err := EncodeApplied(map[string]any{
		"name": fmt.Sprintf("job %d", id), "max_concurrent_runs": json.Number("1"),
		"tags": map[string]any{"jobsync": fmt.Sprintf("p/k%d", id)},
	})
	if err != nil {
		panic(err) // a literal above; cannot fail
	}
	return Job{JobID: id, Applied: raw}
}

func openStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readLock(t *testing.T, path string) *File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestStoreFirstApply(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	if s.File() != nil {
		t.Fatal("a missing lockfile should give File() == nil")
	}
	if err := s.Record(ctx, "a", job(1)); err == nil {
		t.Error("Record before Init should fail")
	}
	s.Init("https://h.example.com", "p")
	lineage := s.File().Lineage
	s.Init("https://other", "q") // no-op once there is a file
	if s.File().Project != "p" {
		t.Error("Init replaced an existing file")
	}
	for i := int64(1); i <= 3; i++ {
		if err := s.Record(ctx, fmt.Sprintf("k%d", i), job(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Forget(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if !exists(path + ".journal") {
		t.Fatal("records should be in the journal before Commit")
	}
	if exists(path) {
		t.Fatal("the lockfile should not be written before Commit")
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if exists(path + ".journal") {
		t.Error("Commit should remove the journal")
	}
	f := readLock(t, path)
	if f.Serial != 1 || f.Lineage != lineage || !reflect.DeepEqual(f.Keys(), []string{"k1", "k3"}) {
		t.Errorf("lockfile = serial %d lineage %s keys %v", f.Serial, f.Lineage, f.Keys())
	}
	if !reflect.DeepEqual(f.Jobs["k3"], job(3)) {
		t.Errorf("k3 = %#v, want %#v", f.Jobs["k3"], job(3))
	}
}

func TestCommitSerialOnlyOnChange(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Commit(ctx))
	before, _ := os.ReadFile(path)

	// Same content again: no bump, not even a rewrite.
	s = openStore(t, path)
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Commit(ctx))
	must(t, s.Commit(ctx))
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("an unchanged commit rewrote the lockfile:\n%s\n---\n%s", before, after)
	}

	must(t, s.Record(ctx, "b", job(2)))
	must(t, s.Commit(ctx))
	if f := readLock(t, path); f.Serial != 2 || len(f.Jobs) != 2 {
		t.Errorf("serial %d jobs %d, want 2 and 2", f.Serial, len(f.Jobs))
	}
	if s.File().Serial != 2 {
		t.Errorf("in-memory serial %d, want 2", s.File().Serial)
	}

	// An entry replaced through File() rather than Record is noticed too.
	s = openStore(t, path)
	s.File().Jobs["a"] = job(77)
	must(t, s.Commit(ctx))
	if f := readLock(t, path); f.Serial != 3 || f.Jobs["a"].JobID != 77 {
		t.Errorf("serial %d, a = %d; want 3 and 77", f.Serial, f.Jobs["a"].JobID)
	}
	// ... and an equal replacement is no change.
	s = openStore(t, path)
	s.File().Jobs["a"] = job(77)
	must(t, s.Commit(ctx))
	if f := readLock(t, path); f.Serial != 3 {
		t.Errorf("serial %d, want 3", f.Serial)
	}
}

// A process that dies after some Records and before Commit loses nothing:
// the next Open replays the journal.
func TestJournalReplay(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Commit(ctx))

	s = openStore(t, path)
	must(t, s.Record(ctx, "b", job(2)))
	must(t, s.Record(ctx, "c", job(3)))
	must(t, s.Forget(ctx, "a"))
	must(t, s.Record(ctx, "b", job(22))) // later records win
	// "crash": no Commit, no Close

	s2 := openStore(t, path)
	f := s2.File()
	if got := f.Keys(); !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Fatalf("replayed keys %v, want [b c]", got)
	}
	if f.Jobs["b"].JobID != 22 {
		t.Errorf("b = %d, want 22", f.Jobs["b"].JobID)
	}
	if j, ok := s2.Job("c"); !ok || !reflect.DeepEqual(j, job(3)) {
		t.Errorf("Job(c) = %v %v", j, ok)
	}
	// The replayed state is what memory held: same types, same values.
	if !reflect.DeepEqual(f.Jobs, s.File().Jobs) {
		t.Errorf("replayed %#v\nin memory %#v", f.Jobs, s.File().Jobs)
	}
	must(t, s2.Commit(ctx))
	if lf := readLock(t, path); lf.Serial != 2 || !reflect.DeepEqual(lf.Keys(), []string{"b", "c"}) {
		t.Errorf("after commit: serial %d keys %v", lf.Serial, lf.Keys())
	}
}

// The very first apply dies before any Commit: there is no lockfile, only
// the journal, whose header carries workspace, project and lineage.
func TestJournalWithoutLockfile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "proj/prod")
	lineage := s.File().Lineage
	must(t, s.Record(ctx, "a", job(1)))

	s2 := openStore(t, path)
	f := s2.File()
	if f == nil {
		t.Fatal("the journal should yield a lockfile")
	}
	if f.Lineage != lineage || f.Workspace != "https://h" || f.Project != "proj/prod" || len(f.Jobs) != 1 {
		t.Errorf("replayed %+v", f)
	}
	must(t, s2.Commit(ctx))
	if lf := readLock(t, path); lf.Serial != 1 || lf.Lineage != lineage {
		t.Errorf("serial %d lineage %s", lf.Serial, lf.Lineage)
	}
}

// A crash in the middle of an append leaves a torn last line: it is
// ignored, and cut off before the next append so it never becomes a
// corrupt middle line.
func TestJournalTornTail(t *testing.T) {
	ctx := context.Background()
	for _, tail := range []string{`{"key":"x","job":{"job_id":`, "\x00\x00\x00\x00", `{"key":"x","job":{"job_id":9}}`, "garbage\n"} {
		t.Run(fmt.Sprintf("%q", tail), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jobsync.lock.json")
			s := openStore(t, path)
			s.Init("https://h", "p")
			must(t, s.Record(ctx, "a", job(1)))
			appendFile(t, path+".journal", tail)

			s2 := openStore(t, path)
			if got := s2.File().Keys(); !reflect.DeepEqual(got, []string{"a"}) {
				t.Fatalf("keys %v, want [a]", got)
			}
			must(t, s2.Record(ctx, "b", job(2)))
			s3 := openStore(t, path)
			if got := s3.File().Keys(); !reflect.DeepEqual(got, []string{"a", "b"}) {
				t.Fatalf("after another append: keys %v, want [a b]", got)
			}
		})
	}
}

// A header that never made it to disk whole: the journal holds nothing.
func TestJournalTornHeader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	if err := os.WriteFile(path+".journal", []byte(`{"journal":1,"works`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, path)
	if s.File() != nil {
		t.Fatal("a torn header should replay to nothing")
	}
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	if got := openStore(t, path).File().Keys(); !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("keys %v", got)
	}
}

func TestJournalCorruptMiddle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Record(ctx, "b", job(2)))
	must(t, s.Record(ctx, "c", job(3)))
	jp := path + ".journal"
	b, _ := os.ReadFile(jp)
	lines := strings.SplitAfter(string(b), "\n")
	lines[2] = "{not json}\n"
	if err := os.WriteFile(jp, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, path)
	var je *JournalError
	if !errors.As(err, &je) || je.Line != 3 {
		t.Fatalf("want *JournalError at line 3, got %v", err)
	}
	for _, want := range []string{jp + " line 3", "Move it aside", "jobsync plan"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestJournalBadRecords(t *testing.T) {
	header := `{"journal":1,"workspace":"https://h","project":"p","lineage":"l","serial":0}` + "\n"
	tests := map[string]string{
		"no key":         `{"job":{"job_id":1}}`,
		"job and forget": `{"key":"a","job":{"job_id":1},"forget":true}`,
		"neither":        `{"key":"a"}`,
		"bad id":         `{"key":"a","job":{"job_id":0}}`,
		"unknown field":  `{"key":"a","job":{"job_id":1},"when":"now"}`,
	}
	for name, rec := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "l.json")
			// The bad record is followed by a good one, so it is not the tail.
			data := header + rec + "\n" + `{"key":"b","forget":true}` + "\n"
			if err := os.WriteFile(path+".journal", []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			var je *JournalError
			if _, err := Open(context.Background(), path); !errors.As(err, &je) || je.Line != 2 {
				t.Errorf("want *JournalError at line 2, got %v", err)
			}
		})
	}
	t.Run("header", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "l.json")
		data := `{"journal":9,"workspace":"https://h","lineage":"l"}` + "\n" + `{"key":"b","forget":true}` + "\n"
		if err := os.WriteFile(path+".journal", []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(context.Background(), path); err == nil || !strings.Contains(err.Error(), "journal version 9 is newer") {
			t.Errorf("got %v", err)
		}
	})
}

// Commit renamed the new lockfile into place and died before removing the
// journal: replaying it again changes nothing, and the serial stays.
func TestCrashAfterRenameBeforeJournalRemoval(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Commit(ctx))
	s = openStore(t, path)
	must(t, s.Record(ctx, "b", job(2)))
	must(t, s.Forget(ctx, "a"))
	journal, err := os.ReadFile(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Commit(ctx))
	committed, _ := os.ReadFile(path)
	if err := os.WriteFile(path+".journal", journal, 0o600); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, path)
	must(t, s2.Commit(ctx))
	again, _ := os.ReadFile(path)
	if !bytes.Equal(committed, again) {
		t.Errorf("replaying an already-committed journal changed the lockfile:\n%s\n---\n%s", committed, again)
	}
	if exists(path + ".journal") {
		t.Error("journal left behind")
	}
}

// Crash between the journal append and Commit, at every record boundary
// and inside every record: the replayed state is always a prefix of what
// was recorded.
func TestCrashAtEveryJournalByte(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Commit(ctx))
	s = openStore(t, path)
	var want []map[string]Job // state after each record
	want = append(want, clone(s.File().Jobs))
	for i, k := range []string{"b", "c", "a", "d"} {
		if k == "a" {
			must(t, s.Forget(ctx, k))
		} else {
			must(t, s.Record(ctx, k, job(int64(i+10))))
		}
		want = append(want, clone(s.File().Jobs))
	}
	journal, _ := os.ReadFile(path + ".journal")
	lockfile, _ := os.ReadFile(path)
	headerLen := bytes.IndexByte(journal, '\n') + 1
	for n := 0; n <= len(journal); n++ {
		p := filepath.Join(dir, fmt.Sprintf("c%d.json", n))
		if err := os.WriteFile(p, lockfile, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".journal", journal[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Open(ctx, p)
		if err != nil {
			t.Fatalf("journal cut at byte %d: %v", n, err)
		}
		records := 0
		if n >= headerLen {
			records = bytes.Count(journal[headerLen:n], []byte("\n"))
		}
		if !reflect.DeepEqual(got.File().Jobs, want[records]) {
			t.Fatalf("journal cut at byte %d: jobs %v, want %v", n, got.File().Keys(), keysOf(want[records]))
		}
		os.Remove(p)
		os.Remove(p + ".journal")
	}
}

func TestJournalOfAnotherLockfile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Commit(ctx))
	other := filepath.Join(t.TempDir(), "other.json")
	o := openStore(t, other)
	o.Init("https://h", "p")
	must(t, o.Record(ctx, "a", job(1)))
	b, _ := os.ReadFile(other + ".journal")
	if err := os.WriteFile(path+".journal", b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "was the lockfile replaced?") {
		t.Errorf("got %v", err)
	}
}

func TestConcurrentRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	const workers, each = 16, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := int64(w*each + i + 1)
				if err := s.Record(ctx, fmt.Sprintf("k%d", id), job(id)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(openStore(t, path).File().Jobs); n != workers*each {
		t.Fatalf("replay found %d jobs, want %d", n, workers*each)
	}
	must(t, s.Commit(ctx))
	if n := len(readLock(t, path).Jobs); n != workers*each {
		t.Fatalf("lockfile has %d jobs, want %d", n, workers*each)
	}
}

// An interrupted apply still records what finished and saves it.
func TestRecordAndCommitAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Init("https://h", "p")
	cancel()
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Commit(ctx))
	if len(readLock(t, path).Jobs) != 1 {
		t.Error("record lost")
	}
	if _, err := Open(ctx, path); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a done context = %v", err)
	}
}

// The caller's maps are not aliased: changing them after Record changes
// neither memory nor disk.
func TestRecordCopies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	j := job(1)
	must(t, s.Record(ctx, "a", j))
	copy(j.Applied, `{"name":"changed"`)
	if got, _ := s.Job("a"); appliedOf(t, got)["name"] != "job 1" {
		t.Errorf("the store aliases the caller's bytes: %s", got.Applied)
	}
	if err := s.Record(ctx, "b", Job{JobID: 1, Applied: json.RawMessage(`{"x":`)}); err == nil {
		t.Error("an unencodable record should fail")
	}
	if err := s.Record(ctx, "b", Job{JobID: 1, Applied: json.RawMessage(`[1]`)}); err == nil {
		t.Error("a record whose applied settings are not an object should fail")
	}
	if err := s.Record(ctx, "", job(1)); err == nil {
		t.Error("an empty key should fail")
	}
	if err := s.Record(ctx, "c", Job{}); err == nil {
		t.Error("a zero job id should fail")
	}
}

func TestFileModes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	if m := mode(t, path+".journal"); m != 0o600 {
		t.Errorf("new journal mode %o, want 600", m)
	}
	must(t, s.Commit(ctx))
	if m := mode(t, path); m != 0o600 {
		t.Errorf("new lockfile mode %o, want 600", m)
	}
	// An existing lockfile keeps its mode, and its journal follows it.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	must(t, s.Record(ctx, "b", job(2)))
	if m := mode(t, path+".journal"); m != 0o644 {
		t.Errorf("journal mode %o, want the lockfile's 644", m)
	}
	must(t, s.Commit(ctx))
	if m := mode(t, path); m != 0o644 {
		t.Errorf("lockfile mode %o after commit, want 644 kept", m)
	}
	// No temp files left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the lockfile", len(entries))
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestDiskErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("parent is a file", func(t *testing.T) {
		path := filepath.Join(notDir, "jobsync.lock.json")
		if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "reading the lockfile "+path) {
			t.Errorf("Open: %v", err)
		}
	})
	for name, path := range map[string]string{
		"missing directory": filepath.Join(dir, "nope", "jobsync.lock.json"),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("Open of a missing lockfile should succeed: %v", err)
			}
			s.Init("https://h", "p")
			err = s.Record(ctx, "a", job(1))
			if err == nil || !strings.Contains(err.Error(), "creating the apply journal "+path+".journal") {
				t.Errorf("Record: %v", err)
			}
			// The record is kept in memory, and the journal stays broken.
			if _, ok := s.Job("a"); !ok {
				t.Error("memory lost the record")
			}
			if err2 := s.Record(ctx, "b", job(2)); err2 == nil {
				t.Error("a second Record after a failure should fail too")
			}
			err = s.Commit(ctx)
			if err == nil || !strings.Contains(err.Error(), "saving the lockfile: cannot create a temporary file next to "+path) {
				t.Errorf("Commit: %v", err)
			}
		})
	}
	t.Run("lockfile is a directory", func(t *testing.T) {
		path := filepath.Join(dir, "isdir")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "the lockfile "+path+" is a directory, not a regular file") {
			t.Errorf("Open: %v", err)
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(ro, 0o555); err != nil { // umask-proof
			t.Fatal(err)
		}
		if os.Geteuid() != 0 {
			if code := readOnlyChild(ro); code != 0 {
				t.Fail()
			}
			return
		}
		// Root ignores permissions: run the check as nobody in a child.
		runAsNobody(t, dir, ro)
	})
}

// readOnlyChild checks the messages for a lockfile in a directory the
// process cannot write; it returns the exit code for the child process.
func readOnlyChild(ro string) int {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(ro, "jobsync.lock.json"))
	if err != nil {
		fmt.Println("Open:", err)
		return 1
	}
	s.Init("https://h", "p")
	code := 0
	if err := s.Record(ctx, "a", job(1)); err == nil || !strings.Contains(err.Error(), "not writable by this user") {
		fmt.Println("Record:", err)
		code = 1
	}
	if err := s.Commit(ctx); err == nil || !strings.Contains(err.Error(), "not writable by this user") {
		fmt.Println("Commit:", err)
		code = 1
	}
	if _, err := Lock(ctx, filepath.Join(ro, "jobsync.lock.json"), 0); err == nil || !strings.Contains(err.Error(), "cannot create the lock file") {
		fmt.Println("Lock:", err)
		code = 1
	}
	return code
}

func TestOpenCorruptNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	if err := os.WriteFile(path, readTestdata(t, "truncated.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), path+": the lockfile is corrupt: it ends early") {
		t.Errorf("got %v", err)
	}
}

func TestCloseKeepsJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Close())
	must(t, s.Close())
	must(t, s.Record(ctx, "b", job(2)))
	if got := openStore(t, path).File().Keys(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("keys %v", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func clone(m map[string]Job) map[string]Job {
	out := make(map[string]Job, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func keysOf(m map[string]Job) []string {
	f := File{Jobs: m}
	return f.Keys()
}

// A Commit killed between creating its temp file and renaming it leaves
// the temp file behind; the next Commit (by the lock holder) removes it.
func TestCommitRemovesStaleTemps(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobsync.lock.json")
	stale := filepath.Join(dir, ".jobsync.lock.json.tmp-12345")
	other := filepath.Join(dir, ".other.json.tmp-1")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, path)
	s.Init("https://h", "p")
	must(t, s.Commit(ctx))
	if exists(stale) {
		t.Error("stale temp file not removed")
	}
	if !exists(other) {
		t.Error("another file's temp file was removed")
	}
}

// FuzzJournal: whatever follows a valid header in the journal, Open never
// panics, and a journal it accepts commits to a lockfile that reads back
// with the same jobs.
func FuzzJournal(f *testing.F) {
	f.Add([]byte(`{"key":"a","job":{"job_id":1,"applied":{"n":1.50}}}` + "\n" + `{"key":"a","forget":true}` + "\n"))
	f.Add([]byte(`{"key":"b","job":{"job_id":2}}` + "\n" + `{"key":"c","job":{"job_i`))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "jobsync.lock.json")
		header := `{"journal":1,"workspace":"https://h","project":"p","lineage":"l","serial":0}` + "\n"
		if err := os.WriteFile(path+".journal", append([]byte(header), tail...), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, path)
		if err != nil {
			return
		}
		if err := s.Commit(ctx); err != nil {
			t.Fatalf("an accepted journal does not commit: %v", err)
		}
		again := openStore(t, path)
		if !reflect.DeepEqual(keysOf(again.File().Jobs), keysOf(s.File().Jobs)) {
			t.Fatalf("committed %v, read back %v", keysOf(s.File().Jobs), keysOf(again.File().Jobs))
		}
	})
}

// TestJournalMustBeRegularFile: a journal that is a link to a device is
// refused instead of being read forever.
func TestJournalMustBeRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	if err := os.Symlink("/dev/zero", path+".journal"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "symbolic link (to /dev/zero), not a regular file") {
		t.Fatalf("Open with a /dev/zero journal: %v", err)
	}
}

// A symlinked lockfile is refused, on reading and on writing: the atomic
// rename would replace the link with a file and leave the file it points
// to with the old state, and the lock would be taken beside the link.
func TestSymlinkedLockfileRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	target := filepath.Join(dir, "real.lock.json")
	s := openStore(t, target)
	s.Init("https://h", "p")
	must(t, s.Record(ctx, "a", job(1)))
	must(t, s.Commit(ctx))
	before, err := os.ReadFile(target)
	must(t, err)

	link := filepath.Join(dir, "jobsync.lock.json")
	if err := os.Symlink("real.lock.json", link); err != nil {
		t.Skip("cannot make a symlink:", err)
	}
	_, err = Open(ctx, link)
	var nr *notRegularError
	if !errors.As(err, &nr) {
		t.Fatalf("Open of a symlinked lockfile: %v", err)
	}
	for _, want := range []string{link + " is a symbolic link (to real.lock.json)", "point --lockfile", "replace the link"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}

	// The link appears after Open (no lockfile then): Commit refuses to
	// rename over it.
	other := filepath.Join(dir, "other.json")
	s2 := openStore(t, other)
	s2.Init("https://h", "p")
	must(t, s2.Record(ctx, "b", job(2)))
	must(t, os.Symlink("real.lock.json", other))
	if err := s2.Commit(ctx); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Commit over a symlink: %v", err)
	}
	if fi, err := os.Lstat(other); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if after, _ := os.ReadFile(target); !bytes.Equal(after, before) {
		t.Error("the link's target changed")
	}
}

// A lockfile or journal beyond the size cap is refused before it is read
// (the file is sparse: nothing of it is in memory or on disk).
func TestStateFileSizeCap(t *testing.T) {
	for _, suffix := range []string{"", ".journal"} {
		path := filepath.Join(t.TempDir(), "jobsync.lock.json")
		f, err := os.Create(path + suffix)
		must(t, err)
		must(t, f.Truncate(maxStateFile+1))
		must(t, f.Close())
		_, err = Open(context.Background(), path)
		if err == nil || !strings.Contains(err.Error(), "larger than 256 MiB") {
			t.Errorf("Open with a huge %q: %v", "lockfile"+suffix, err)
		}
	}
}

// A journal record with a duplicated key is refused like any other damage
// in the middle of the journal, naming the line.
func TestJournalDuplicateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.json")
	data := `{"journal":1,"workspace":"https://h","project":"p","lineage":"l","serial":0}` + "\n" +
		`{"key":"a","job":{"job_id":1,"job_id":2}}` + "\n" + `{"key":"b","forget":true}` + "\n"
	must(t, os.WriteFile(path+".journal", []byte(data), 0o600))
	_, err := Open(context.Background(), path)
	var je *JournalError
	if !errors.As(err, &je) || je.Line != 2 || !strings.Contains(err.Error(), `key "job_id" appears twice`) {
		t.Errorf("got %v", err)
	}
}
