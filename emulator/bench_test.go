package emulator

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// serve calls the handler in-process (no network) and fails on non-200.
func serve(tb testing.TB, s *Server, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer bench")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 {
		tb.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body)
	}
	return rec
}

const benchJob = `{"name": "job-%d", "tags": {"jobsync": "proj/job-%d"}, "max_concurrent_runs": 1, "queue": {"enabled": false},
 "job_clusters": [{"job_cluster_key": "c", "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}}],
 "tasks": [
  {"task_key": "ingest", "job_cluster_key": "c", "notebook_task": {"notebook_path": "/Repos/x/ingest", "base_parameters": {"date": "{{job.start_time.iso_date}}"}}},
  {"task_key": "transform", "depends_on": [{"task_key": "ingest"}], "job_cluster_key": "c", "spark_python_task": {"python_file": "t.py"}},
  {"task_key": "publish", "depends_on": [{"task_key": "transform"}], "job_cluster_key": "c", "notebook_task": {"notebook_path": "/Repos/x/publish"}}]}`

func seedJobs(tb testing.TB, n int) *Server {
	s, err := New(Options{JobQuota: -1, CreatesPerHour: -1})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		serve(tb, s, "POST", "/api/2.2/jobs/create", fmt.Sprintf(benchJob, i, i))
	}
	return s
}

// listAllPages pages through jobs/list?expand_tasks=true&limit=100.
func listAllPages(tb testing.TB, s *Server) int {
	pages := 0
	tok := ""
	for {
		target := "/api/2.2/jobs/list?expand_tasks=true&limit=100"
		if tok != "" {
			target += "&page_token=" + url.QueryEscape(tok)
		}
		rec := serve(tb, s, "GET", target, "")
		pages++
		body := rec.Body.String()
		i := strings.Index(body, `"next_page_token":"`)
		if i < 0 {
			return pages
		}
		rest := body[i+len(`"next_page_token":"`):]
		tok = rest[:strings.IndexByte(rest, '"')]
	}
}

// BenchmarkList10k: one full paged listing of 10,000 three-task jobs (100
// pages), as a no-change plan reads them.
func BenchmarkList10k(b *testing.B) {
	s := seedJobs(b, 10_000)
	listAllPages(b, s) // fill the per-job caches, as the first plan would
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if pages := listAllPages(b, s); pages != 100 {
			b.Fatalf("%d pages", pages)
		}
	}
}

// BenchmarkList10kCold: the same listing right after every job changed (no
// cached views).
func BenchmarkList10kCold(b *testing.B) {
	s := seedJobs(b, 10_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		s.st.mu.Lock()
		for id, j := range s.st.jobs {
			s.st.jobs[id] = newJob(j.id, j.created, j.creator, j.settings)
		}
		s.st.mu.Unlock()
		b.StartTimer()
		listAllPages(b, s)
	}
}

// BenchmarkGet1000Tasks: all 10 pages of jobs/get of a 1,000-task job.
func BenchmarkGet1000Tasks(b *testing.B) {
	s := seedJobs(b, 0)
	var tasks []string
	for i := range 1000 {
		dep := ""
		if i > 0 {
			dep = fmt.Sprintf(`"depends_on": [{"task_key": "t%d"}], `, i-1)
		}
		tasks = append(tasks, fmt.Sprintf(`{"task_key": "t%d", %s"notebook_task": {"notebook_path": "/n/%d"}}`, i, dep, i))
	}
	rec := serve(b, s, "POST", "/api/2.2/jobs/create", `{"name": "big", "tasks": [`+strings.Join(tasks, ",")+`]}`)
	id := idFromBody(b, rec.Body.Bytes())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tok := ""
		for pages := 0; ; pages++ {
			target := "/api/2.2/jobs/get?job_id=" + id
			if tok != "" {
				target += "&page_token=" + url.QueryEscape(tok)
			}
			body := serve(b, s, "GET", target, "").Body.String()
			i := strings.Index(body, `"next_page_token":"`)
			if i < 0 {
				if pages != 9 {
					b.Fatalf("%d pages", pages+1)
				}
				break
			}
			rest := body[i+len(`"next_page_token":"`):]
			tok = rest[:strings.IndexByte(rest, '"')]
		}
	}
}

// BenchmarkCreate: one jobs/create of a three-task job.
func BenchmarkCreate(b *testing.B) {
	s := seedJobs(b, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serve(b, s, "POST", "/api/2.2/jobs/create", fmt.Sprintf(benchJob, i, i))
		i++
	}
}

// BenchmarkSave10k: writing the state of 10,000 jobs after one changed.
func BenchmarkSave10k(b *testing.B) {
	s := seedJobs(b, 10_000)
	s.persist.path = filepath.Join(b.TempDir(), "state.json")
	if err := s.Save(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve(b, s, "POST", "/api/2.2/jobs/update", `{"job_id": `+itoa(defaultFirstJobID)+`, "new_settings": {"name": "x"}}`)
		if err := s.Save(); err != nil {
			b.Fatal(err)
		}
	}
}

func idFromBody(tb testing.TB, body []byte) string {
	s := string(body)
	i := strings.Index(s, `"job_id":`)
	if i < 0 {
		tb.Fatalf("no job_id in %s", s)
	}
	rest := s[i+len(`"job_id":`):]
	return strings.TrimRight(rest[:strings.IndexAny(rest, ",}")], " ")
}
