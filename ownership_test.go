package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/internal/emutest"
	"github.com/jobsync/jobsync/state"
)

// This file proves issue 12's rule end to end: jobsync writes (jobs/update,
// jobs/reset, jobs/delete, permissions PUT, run-now) only to a job whose
// live settings carry the tag jobsync=<project>/<key> of that very key.
// Each test runs the real CLI against an emulator on loopback, plants the
// id of someone else's job in the lockfile or in a journal record, and
// reads the emulator's request log: the command fails with the message,
// exit 1, and not one write names that job.

const ownProject = "acme"

// ownYAML is written the way Databricks' own examples write a job file (a
// bundle's resources: jobs: mapping, a shared job cluster, a schedule).
const ownYAML = `resources:
  jobs:
    nightly_etl:
      name: nightly-etl
      schedule:
        quartz_cron_expression: "0 30 2 * * ?"
        timezone_id: Europe/Amsterdam
      email_notifications:
        on_failure:
          - data-team@example.com
      job_clusters:
        - job_cluster_key: etl_cluster
          new_cluster:
            spark_version: 15.4.x-scala2.12
            node_type_id: i3.xlarge
            num_workers: 2
      tasks:
        - task_key: ingest
          job_cluster_key: etl_cluster
          notebook_task:
            notebook_path: /Workspace/Shared/etl/ingest
        - task_key: transform
          depends_on:
            - task_key: ingest
          job_cluster_key: etl_cluster
          notebook_task:
            notebook_path: /Workspace/Shared/etl/transform
      permissions:
        - group_name: data-engineers
          permission_level: CAN_MANAGE_RUN
    weekly_report:
      name: weekly-report
      tasks:
        - task_key: report
          spark_python_task:
            python_file: /Workspace/Shared/reports/weekly.py
          environment_key: default
      environments:
        - environment_key: default
          spec:
            client: "1"
`

// ownWorld is one emulated workspace and one checkout: jobs/ with the YAML
// and a lockfile beside it.
type ownWorld struct {
	t    *testing.T
	emu  *emulator.Server
	url  string
	dir  string
	lock string
}

func newOwnWorld(t *testing.T) *ownWorld {
	t.Helper()
	emu, url := emutest.Serve(t, emulator.Options{ReorderReads: true,
		Directory: emulator.Directory{Groups: []emulator.Group{{DisplayName: "data-engineers"}}}})
	w := &ownWorld{t: t, emu: emu}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	w.url, w.dir, w.lock = url, dir, filepath.Join(dir, "jobsync.lock.json")
	w.writeYAML(ownYAML)
	return w
}

func (w *ownWorld) writeYAML(y string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "jobs", "jobs.yml"), []byte(y), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *ownWorld) jobs() string { return filepath.Join(w.dir, "jobs") }

// cli runs jobsync with args (flags first, then the command's arguments)
// against the emulator, with the world's lockfile and project.
func (w *ownWorld) cli(cmd []string, args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	full := append([]string{"jobsync"}, cmd...)
	full = append(full, "--lockfile", w.lock, "--project", ownProject)
	full = append(full, args...)
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		switch k {
		case "DATABRICKS_HOST":
			return w.url
		case "DATABRICKS_TOKEN":
			return "dapi-own-test-0123456789abcdef"
		case "HOME":
			return w.dir
		case "NO_COLOR":
			return "1"
		}
		return ""
	}
	code = run(context.Background(), full, stdio{strings.NewReader(""), &out, &errb}, getenv)
	return code, out.String(), errb.String()
}

func (w *ownWorld) mustCLI(cmd []string, args ...string) string {
	w.t.Helper()
	code, out, errs := w.cli(cmd, args...)
	if code != 0 {
		w.t.Fatalf("jobsync %s: exit %d\n%s\n%s", strings.Join(cmd, " "), code, out, errs)
	}
	return out
}

// api sends one raw request to the emulator (a change "outside jobsync").
func (w *ownWorld) api(method, path string, body any) map[string]any {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, w.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer outside")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	_ = dec.Decode(&out)
	if resp.StatusCode != 200 {
		w.t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}

// foreign creates someone else's job: without a jobsync tag when tag is
// "", else with that tag value.
func (w *ownWorld) foreign(tag string) int64 {
	w.t.Helper()
	s := map[string]any{"name": "finance-close", "tags": map[string]any{"team": "finance"},
		"tasks": []any{map[string]any{"task_key": "close", "notebook_task": map[string]any{"notebook_path": "/Workspace/finance/close"}}}}
	if tag != "" {
		s["tags"].(map[string]any)["jobsync"] = tag
	}
	out := w.api("POST", "/api/2.2/jobs/create", s)
	id, err := out["job_id"].(json.Number).Int64()
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *ownWorld) lockfile() *state.File {
	w.t.Helper()
	st, err := state.Open(context.Background(), w.lock)
	if err != nil {
		w.t.Fatal(err)
	}
	if st.File() == nil {
		w.t.Fatal("no lockfile")
	}
	return st.File()
}

// plant makes key name job id: in the lockfile itself, or in a journal
// record replayed on top of it (what an apply that died leaves behind).
func (w *ownWorld) plant(where, key string, id int64) {
	w.t.Helper()
	switch where {
	case "lockfile":
		data, err := os.ReadFile(w.lock)
		if err != nil {
			w.t.Fatal(err)
		}
		var f map[string]any
		if err := json.Unmarshal(data, &f); err != nil {
			w.t.Fatal(err)
		}
		jobs := f["jobs"].(map[string]any)
		e, _ := jobs[key].(map[string]any)
		if e == nil {
			e = map[string]any{}
		}
		e["job_id"] = id
		jobs[key] = e
		data, _ = json.MarshalIndent(f, "", "  ")
		if err := os.WriteFile(w.lock, data, 0o644); err != nil {
			w.t.Fatal(err)
		}
	case "journal":
		f := w.lockfile()
		h, _ := json.Marshal(map[string]any{"journal": 1, "workspace": f.Workspace, "project": f.Project, "lineage": f.Lineage, "serial": f.Serial})
		r, _ := json.Marshal(map[string]any{"key": key, "job": map[string]any{"job_id": id}})
		if err := os.WriteFile(w.lock+".journal", []byte(string(h)+"\n"+string(r)+"\n"), 0o644); err != nil {
			w.t.Fatal(err)
		}
	default:
		w.t.Fatalf("plant where %q", where)
	}
	if got := w.lockfile().Jobs[key].JobID; got != id {
		w.t.Fatalf("planting failed: %s is job %d", key, got)
	}
}

// writesTo is every logged request other than a read that names job id,
// in its path (permissions) or as its body's job_id.
func (w *ownWorld) writesTo(id int64) []string {
	var out []string
	for _, r := range w.emu.Requests() {
		if r.Method != http.MethodGet && r.About(id) {
			out = append(out, r.Method+" "+r.Path+" "+string(r.Body))
		}
	}
	return out
}

// resetLog empties the request log.
func (w *ownWorld) resetLog() {
	w.emu.ResetRequests()
}

// writes is every logged request other than a read, but for those of the
// workspace lease (workspace files, not jobs).
func (w *ownWorld) writes() []string {
	var out []string
	for _, r := range w.emu.Requests() {
		if r.Method != http.MethodGet && !isLeaseRequest(r) {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// isLeaseRequest tells the workspace files requests of the workspace lease
// (create, renew, delete of <root_path>/state/jobsync.lock).
func isLeaseRequest(r emulator.Request) bool {
	return strings.HasSuffix(r.Path, "/state/jobsync.lock") ||
		(strings.HasPrefix(r.Path, "/api/2.0/workspace/") && strings.Contains(string(r.Body), "/state/jobsync.lock"))
}

// refusal is the message of an ownership refusal of key and job id.
func refusal(key string, id int64, tag string) []string {
	want := []string{fmt.Sprintf("maps %q to job %d", key, id), "jobsync state rm " + key, fmt.Sprintf("jobsync import %s %d", key, id)}
	if tag == "" {
		return append(want, "carries no jobsync tag")
	}
	return append(want, "carries the tag jobsync="+tag)
}

var foreignTags = []struct{ name, tag string }{{"untagged", ""}, {"other project", "payments/nightly_etl"}}

// TestNoWriteToForeignJob: apply, apply --prune, destroy and run, under
// every refresh strategy where the command has one, with someone else's
// job planted in the lockfile or in a journal record.
func TestNoWriteToForeignJob(t *testing.T) {
	type command struct {
		name string
		cmd  []string
		key  string // the key the foreign job is planted under
	}
	var commands []command
	for _, s := range []string{"auto", "list", "get"} {
		commands = append(commands,
			command{"apply/" + s, []string{"apply", "--auto-approve", "--refresh", s}, "nightly_etl"},
			command{"apply --prune/" + s, []string{"apply", "--auto-approve", "--prune", "--refresh", s}, "retired_job"},
			command{"plan/" + s, []string{"plan", "--refresh", s}, "nightly_etl"},
		)
	}
	commands = append(commands,
		command{"destroy", []string{"destroy", "--auto-approve"}, "retired_job"},
		command{"destroy configured key", []string{"destroy", "--auto-approve"}, "weekly_report"},
		command{"run", []string{"run"}, "nightly_etl"},
	)
	for _, c := range commands {
		for _, where := range []string{"lockfile", "journal"} {
			for _, f := range foreignTags {
				t.Run(c.name+"/"+where+"/"+f.name, func(t *testing.T) {
					w := newOwnWorld(t)
					w.mustCLI([]string{"apply", "--auto-approve"}, w.jobs())
					id := w.foreign(f.tag)
					w.plant(where, c.key, id)
					w.resetLog()

					args := []string{w.jobs()}
					if c.name == "run" {
						args = []string{c.key}
					}
					code, out, errs := w.cli(c.cmd, args...)
					if code != 1 {
						t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
					}
					for _, want := range refusal(c.key, id, f.tag) {
						if !strings.Contains(errs, want) {
							t.Errorf("stderr lacks %q:\n%s", want, errs)
						}
					}
					if got := w.writesTo(id); len(got) > 0 {
						t.Errorf("wrote to the foreign job %d: %v", id, got)
					}
					// The plan fails as a whole: nothing else is written either.
					if got := w.writes(); len(got) > 0 {
						t.Errorf("a refused plan still wrote: %v", got)
					}
				})
			}
		}
	}
}

// TestSavedPlanNoWriteToForeignJob: a plan file edited to aim an action at
// someone else's job (with the lockfile, or a journal record, agreeing) is
// refused at apply time by the re-read of the job's tag.
func TestSavedPlanNoWriteToForeignJob(t *testing.T) {
	for _, where := range []string{"lockfile", "journal"} {
		for _, f := range foreignTags {
			t.Run(where+"/"+f.name, func(t *testing.T) {
				w := newOwnWorld(t)
				w.mustCLI([]string{"apply", "--auto-approve"}, w.jobs())
				ours := w.lockfile().Jobs["nightly_etl"].JobID
				// A change to plan: a third task.
				w.writeYAML(strings.Replace(ownYAML, "      permissions:\n", "        - task_key: publish\n          depends_on:\n            - task_key: transform\n          notebook_task:\n            notebook_path: /Workspace/Shared/etl/publish\n      permissions:\n", 1))
				planFile := filepath.Join(w.dir, "plan.json")
				w.mustCLI([]string{"plan", "--out", planFile}, w.jobs())
				id := w.foreign(f.tag)
				data, err := os.ReadFile(planFile)
				if err != nil {
					t.Fatal(err)
				}
				doctored := strings.ReplaceAll(string(data), fmt.Sprint(ours), fmt.Sprint(id))
				if doctored == string(data) {
					t.Fatal("the plan does not name nightly_etl's job")
				}
				if err := os.WriteFile(planFile, []byte(doctored), 0o600); err != nil {
					t.Fatal(err)
				}
				w.plant(where, "nightly_etl", id)
				w.resetLog()

				code, out, errs := w.cli([]string{"apply"}, planFile)
				if code != 1 {
					t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
				}
				wants := []string{fmt.Sprintf("writes to job %d", id), "jobsync state rm nightly_etl", fmt.Sprintf("jobsync import nightly_etl %d", id), "jobsync plan"}
				if f.tag == "" {
					wants = append(wants, "carries no jobsync tag")
				} else {
					wants = append(wants, "carries the tag jobsync="+f.tag)
				}
				for _, want := range wants {
					if !strings.Contains(errs, want) {
						t.Errorf("stderr lacks %q:\n%s", want, errs)
					}
				}
				if got := w.writesTo(id); len(got) > 0 {
					t.Errorf("wrote to the foreign job %d: %v", id, got)
				}
			})
		}
	}
}

// TestImportWithForeignJobPlanted: import never writes to a job of another
// project or key; an entry naming a foreign job blocks importing another job
// under that key; and importing some other key is not held up by it (its
// preview plans only that key) and writes nothing to the foreign job.
func TestImportWithForeignJobPlanted(t *testing.T) {
	handMade := map[string]any{"name": "ad-hoc-export", "tasks": []any{map[string]any{"task_key": "export",
		"notebook_task": map[string]any{"notebook_path": "/Workspace/Users/me/export"}}}}
	adHocYAML := ownYAML + `    ad_hoc_export:
      name: ad-hoc-export
      tasks:
        - task_key: export
          notebook_task:
            notebook_path: /Workspace/Users/me/export
`
	for _, where := range []string{"lockfile", "journal"} {
		for _, f := range foreignTags {
			t.Run(where+"/"+f.name, func(t *testing.T) {
				w := newOwnWorld(t)
				w.mustCLI([]string{"apply", "--auto-approve"}, w.jobs())
				id := w.foreign(f.tag)
				w.plant(where, "nightly_etl", id)
				out := w.api("POST", "/api/2.2/jobs/create", handMade)
				other, _ := out["job_id"].(json.Number).Int64()
				w.writeYAML(adHocYAML)
				w.resetLog()

				// Another job under the key that names the foreign one.
				code, _, errs := w.cli([]string{"import"}, "nightly_etl", fmt.Sprint(other), w.jobs())
				if code != 1 || !strings.Contains(errs, fmt.Sprintf("nightly_etl already manages job %d", id)) || !strings.Contains(errs, "jobsync state rm nightly_etl") {
					t.Errorf("import of another job under nightly_etl: exit %d\n%s", code, errs)
				}
				// The foreign job itself under another key: refused.
				code, _, errs = w.cli([]string{"import"}, "ad_hoc_export", fmt.Sprint(id), w.jobs())
				if code != 1 || !strings.Contains(errs, fmt.Sprintf("job %d is already managed as nightly_etl", id)) {
					t.Errorf("import of the foreign job under another key: exit %d\n%s", code, errs)
				}
				if got := w.writes(); len(got) > 0 {
					t.Fatalf("refused imports wrote: %v", got)
				}

				// Another key imports; the planted entry does not block it.
				stdout := w.mustCLI([]string{"import"}, "ad_hoc_export", fmt.Sprint(other), w.jobs())
				if !strings.Contains(stdout, fmt.Sprintf("Tagged job %d with jobsync=acme/ad_hoc_export", other)) {
					t.Errorf("import output:\n%s", stdout)
				}
				if got := w.writesTo(id); len(got) > 0 {
					t.Errorf("wrote to the foreign job %d: %v", id, got)
				}
				if got := w.writes(); len(got) != 1 || got[0] != "POST /api/2.2/jobs/update" {
					t.Errorf("import wrote %v, want exactly one jobs/update (the tag)", got)
				}
			})
		}
	}
}

// TestImportAdoptsOnPurpose: the way out of a refusal. A job without a tag
// that the lockfile names is adopted by `jobsync import KEY JOB_ID` (which
// writes the tag and nothing else); from then on plans and applies work and
// converge. A job with another project's tag is never adopted.
func TestImportAdoptsOnPurpose(t *testing.T) {
	for _, where := range []string{"lockfile", "journal"} {
		t.Run(where, func(t *testing.T) {
			w := newOwnWorld(t)
			w.mustCLI([]string{"apply", "--auto-approve"}, w.jobs())
			ours := w.lockfile().Jobs["nightly_etl"].JobID
			w.api("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": ours})
			id := w.foreign("")
			w.plant(where, "nightly_etl", id)

			if code, _, errs := w.cli([]string{"plan"}, w.jobs()); code != 1 || !strings.Contains(errs, "carries no jobsync tag") {
				t.Fatalf("plan: exit %d\n%s", code, errs)
			}
			w.resetLog()
			out := w.mustCLI([]string{"import"}, "nightly_etl", fmt.Sprint(id), w.jobs())
			if !strings.Contains(out, "The next apply will make these changes:") {
				t.Errorf("import shows no preview:\n%s", out)
			}
			writes := w.writes()
			if len(writes) != 1 || writes[0] != "POST /api/2.2/jobs/update" {
				t.Fatalf("import wrote %v, want one jobs/update", writes)
			}
			var body map[string]any
			for _, r := range w.emu.Requests() {
				if r.Method == http.MethodPost && !isLeaseRequest(r) {
					dec := json.NewDecoder(bytes.NewReader(r.Body))
					dec.UseNumber()
					_ = dec.Decode(&body)
				}
			}
			want := fmt.Sprintf(`{"job_id":%d,"new_settings":{"tags":{"jobsync":"acme/nightly_etl","team":"finance"}}}`, id)
			if got, _ := json.Marshal(body); string(got) != want {
				t.Errorf("import's write\n got %s\nwant %s", got, want)
			}
			w.mustCLI([]string{"apply", "--auto-approve"}, w.jobs())
			code, out, errs := w.cli([]string{"plan", "--detailed-exitcode"}, w.jobs())
			if code != 0 || !strings.Contains(out, "No changes.") {
				t.Errorf("plan after import and apply: exit %d\n%s\n%s", code, out, errs)
			}
		})
	}
	t.Run("other project", func(t *testing.T) {
		w := newOwnWorld(t)
		w.mustCLI([]string{"apply", "--auto-approve"}, w.jobs())
		w.writeYAML(ownYAML + "    finance_close:\n      name: finance-close\n      tasks:\n        - task_key: close\n          notebook_task:\n            notebook_path: /Workspace/finance/close\n")
		id := w.foreign("payments/nightly_etl")
		w.resetLog()
		code, _, errs := w.cli([]string{"import"}, "finance_close", fmt.Sprint(id), w.jobs())
		if code != 1 || !strings.Contains(errs, "carries the tag jobsync=payments/nightly_etl") {
			t.Errorf("exit %d\n%s", code, errs)
		}
		if got := w.writes(); len(got) > 0 {
			t.Errorf("wrote %v", got)
		}
	})
}
