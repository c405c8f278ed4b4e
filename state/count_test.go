package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCountJobs: CountJobs finds the number of jobs Open finds, in the
// lockfiles Commit writes and in hand-written ones, and says it cannot
// tell (rather than guessing) where Open must have its say.
func TestCountJobs(t *testing.T) {
	const all = 1 << 30
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobsync.lock.json")
	if n, exists, ok := CountJobs(path, all); n != 0 || exists || !ok {
		t.Fatalf("no lockfile: %d, %v, %v", n, exists, ok)
	}
	for _, jobs := range []int{0, 1, 49, 300} {
		st, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if st.File() == nil {
			st.Init("https://example", "p")
		}
		for i := 0; i < jobs; i++ {
			applied, _ := EncodeApplied(map[string]any{"name": fmt.Sprintf("j \"%d\" {", i), "tasks": []any{map[string]any{"task_key": "a"}}, "n": json.Number("1e3")})
			if err := st.Record(ctx, fmt.Sprintf("job_%03d", i), Job{JobID: int64(i + 1), Applied: applied}); err != nil {
				t.Fatal(err)
			}
		}
		if jobs > 0 {
			// An apply under way: the journal's jobs are not in the file yet.
			if _, exists, ok := CountJobs(path, all); ok {
				t.Errorf("with a journal: counted (exists %v)", exists)
			}
		}
		if err := st.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		st.Close()
		st, err = Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		want := len(st.File().Jobs)
		st.Close()
		if n, exists, ok := CountJobs(path, all); n != want || !exists || !ok {
			t.Errorf("%d jobs committed: CountJobs = %d, %v, %v; Open finds %d", jobs, n, exists, ok, want)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	compact := new(bytes.Buffer)
	json.Compact(compact, data)
	for _, c := range []struct {
		doc  string
		n    int
		ok   bool
		name string
	}{
		{compact.String(), 300, true, "compact"},
		{`{"version":1,"jobs":{"a":{"job_id":1},"b\u0041":{"job_id":2}}}`, 0, false, "escaped key"},
		{`{"version":1,"jobs":{}}`, 0, true, "empty"},
		{`{"version":1,"jobs":null}`, 0, true, "null"},
		{`{"version":1,"jobs":{"a":{"job_id":1}},"jobs":{}}`, 0, false, "jobs twice"},
		{`{"version":1,"jobs":{"a":{"job_id":1}}`, 0, false, "truncated"},
		{`{"version":1,"jobs":{"a":{"job_id":1}}} x`, 0, false, "trailing"},
		{`[1]`, 0, false, "array"},
		{`<<<<<<< ours`, 0, false, "conflict"},
	} {
		if err := os.WriteFile(path, []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		n, _, ok := CountJobs(path, all)
		if ok != c.ok || ok && n != c.n {
			t.Errorf("%s: %d, %v; want %d, %v", c.name, n, ok, c.n, c.ok)
		}
	}
}

// TestCountJobsLimit: CountJobs stops at limit+1, reading only the start
// of a large lockfile, and reads on where the start does not settle it.
func TestCountJobsLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	doc := func(jobs, pad int, tail string) string {
		var b bytes.Buffer
		b.WriteString(`{"version":1,"workspace":"https://w","jobs":{`)
		for i := 0; i < jobs; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"job_%04d":{"job_id":%d,"applied":{"name":%q}}`, i, i+1, strings.Repeat("x", pad))
		}
		b.WriteString("}" + tail + "}")
		return b.String()
	}
	for _, c := range []struct {
		name       string
		doc        string
		limit, n   int
		ok         bool
		wantPrefix bool // settled by the first countPrefix bytes
	}{
		{"many small jobs", doc(5000, 200, ""), 48, 49, true, true},
		{"exactly the limit", doc(48, 200, ""), 48, 48, true, false},
		{"few jobs in a large file", doc(10, 200<<10, ""), 48, 10, true, false},
		{"more than the limit past the prefix", doc(60, 100<<10, ""), 48, 49, true, false},
		{"what follows the count is not looked into", doc(5000, 200, `,"x":`), 48, 49, true, true},
		{"a broken file under the limit", doc(10, 200<<10, `,"x":`), 48, 0, false, false},
	} {
		if err := os.WriteFile(path, []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		n, exists, ok := CountJobs(path, c.limit)
		if !exists || ok != c.ok || ok && n != c.n {
			t.Errorf("%s: %d, %v, %v; want %d, true, %v", c.name, n, exists, ok, c.n, c.ok)
		}
		if len(c.doc) > countPrefix {
			_, more, _ := countIn([]byte(c.doc[:countPrefix]), c.limit)
			if more != c.wantPrefix {
				t.Errorf("%s: settled by the prefix %v, want %v", c.name, more, c.wantPrefix)
			}
		}
	}
}
