package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzTargets are the endpoints FuzzRequests sends bodies (or query strings)
// to. {job} and {run} are replaced with existing ids.
var fuzzTargets = []struct{ method, path string }{
	{"POST", "/api/2.2/jobs/create"},
	{"POST", "/api/2.2/jobs/update"},
	{"POST", "/api/2.2/jobs/reset"},
	{"POST", "/api/2.2/jobs/delete"},
	{"POST", "/api/2.2/jobs/run-now"},
	{"POST", "/api/2.2/jobs/runs/submit"},
	{"POST", "/api/2.2/jobs/runs/cancel"},
	{"POST", "/api/2.2/jobs/runs/cancel-all"},
	{"POST", "/api/2.2/jobs/runs/delete"},
	{"POST", "/api/2.2/jobs/runs/repair"},
	{"POST", "/api/2.1/jobs/create"},
	{"POST", "/api/2.1/jobs/reset"},
	{"PUT", "/api/2.0/permissions/jobs/{job}"},
	{"PATCH", "/api/2.0/permissions/jobs/{job}"},
	{"GET", "/api/2.2/jobs/get"},
	{"GET", "/api/2.2/jobs/list"},
	{"GET", "/api/2.2/jobs/runs/list"},
	{"GET", "/api/2.2/jobs/runs/get"},
	{"GET", "/api/2.2/jobs/runs/get-output"},
	{"GET", "/api/2.2/jobs/runs/export"},
	{"GET", "/api/2.1/jobs/get"},
}

// FuzzRequests sends arbitrary bodies to every POST/PUT/PATCH endpoint (and
// arbitrary query strings to the GET endpoints): the emulator must never
// panic and never answer 5xx for bad input, and always answer JSON.
func FuzzRequests(f *testing.F) {
	s, err := New(Options{JobQuota: -1, CreatesPerHour: -1})
	if err != nil {
		f.Fatal(err)
	}
	seedJob := idOf(f, fuzzDo(f, s, "POST", "/api/2.2/jobs/create", `{"name": "seed", "max_concurrent_runs": 10, "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p"}}, {"task_key": "b_fail", "depends_on": [{"task_key": "a"}], "notebook_task": {"notebook_path": "p"}}]}`), "job_id")
	runID := idOf(f, fuzzDo(f, s, "POST", "/api/2.2/jobs/run-now", `{"job_id": `+seedJob+`}`), "run_id")
	seeds := []string{
		`{"name": "x", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p", "base_parameters": {"k": "v"}}, "new_cluster": {"num_workers": 0}}], "schedule": {"quartz_cron_expression": "0 0 1 * * ?", "timezone_id": "UTC"}}`,
		`{"job_id": {job}, "new_settings": {"tasks": [{"task_key": "c", "depends_on": [{"task_key": "a"}], "spark_python_task": {"python_file": "f"}}]}, "fields_to_remove": ["tasks/b_fail", "schedule"]}`,
		`{"job_id": {job}, "new_settings": {"name": "r", "git_source": {"git_url": "u", "git_provider": "gitHub"}}}`,
		`{"job_id": {job}, "only": ["a"], "job_parameters": {"x": "y"}, "idempotency_token": "tok"}`,
		`{"run_id": {run}, "rerun_all_failed_tasks": true, "rerun_dependent_tasks": true}`,
		`{"access_control_list": [{"user_name": "u", "permission_level": "IS_OWNER"}, {"group_name": "g", "permission_level": "CAN_VIEW"}]}`,
		`{"tasks": [{"task_key": "s", "for_each_task": {"inputs": "[1]", "task": {"task_key": "i", "condition_task": {"left": "1", "op": "EQUAL_TO", "right": "1"}}}}]}`,
		`job_id={job}&page_token=amcxOm46MTox`, `limit=100&expand_tasks=true&name=seed&page_token=x`, `run_id={run}&include_history=true`,
		`{"job_id": 1e30}`, `{"max_concurrent_runs": -1}`, `{"tasks": [null, 1, "x"]}`, `[]`, `{`, ``, `null`,
	}
	for i := range fuzzTargets {
		for _, sd := range seeds {
			f.Add(uint8(i), sd)
		}
	}
	f.Fuzz(func(t *testing.T, target uint8, body string) {
		tg := fuzzTargets[int(target)%len(fuzzTargets)]
		body = strings.NewReplacer("{job}", seedJob, "{run}", runID).Replace(body)
		path := strings.ReplaceAll(tg.path, "{job}", seedJob)
		var req *http.Request
		if tg.method == "GET" {
			req = httptest.NewRequest("GET", path, nil)
			req.URL.RawQuery = body
			if _, err := url.ParseQuery(body); err != nil {
				req.URL.RawQuery = url.QueryEscape(body)
			}
		} else {
			req = httptest.NewRequest(tg.method, path, strings.NewReader(body))
		}
		req.Header.Set("Authorization", "Bearer fuzz")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", tg.method, path, body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s %q: answer is not JSON: %s", tg.method, path, body, rec.Body)
		}
	})
}

// idOf reads an id field of a JSON answer, as a decimal string.
func idOf(f *testing.F, out []byte, key string) string {
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		f.Fatal(err)
	}
	return m[key].(json.Number).String()
}

func fuzzDo(f *testing.F, s *Server, method, path, body string) []byte {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer fuzz")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 {
		f.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// FuzzLoadState: a damaged state file is an error, never a panic, and a
// state that loads can be served.
func FuzzLoadState(f *testing.F) {
	s, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	job := idOf(f, fuzzDo(f, s, "POST", "/api/2.2/jobs/create", `{"name": "x", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p"}}, {"task_key": "b", "depends_on": [{"task_key": "a"}], "notebook_task": {"notebook_path": "p"}}]}`), "job_id")
	fuzzDo(f, s, "POST", "/api/2.2/jobs/run-now", `{"job_id": `+job+`, "idempotency_token": "t"}`)
	snap, err := s.snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snap)
	f.Add([]byte(`{"version": 1, "next_job_id": 1, "next_run_id": 1}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "state.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := New(Options{DataFile: path})
		if err != nil {
			return
		}
		for _, target := range []string{"/api/2.2/jobs/list?expand_tasks=true", "/api/2.2/jobs/runs/list?expand_tasks=true", "/api/2.2/jobs/get?job_id=" + job} {
			req := httptest.NewRequest("GET", target, nil)
			req.Header.Set("Authorization", "Bearer fuzz")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
			}
		}
		if ids := s.JobIDs(); len(ids) > 0 {
			body := `{"job_id": ` + itoa(ids[0]) + `}`
			for _, target := range []string{"/api/2.2/jobs/run-now", "/api/2.2/jobs/runs/cancel-all", "/api/2.2/jobs/delete"} {
				req := httptest.NewRequest("POST", target, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer fuzz")
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code >= 500 {
					t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
				}
			}
		}
	})
}
