package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/internal/emutest"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// This file proves the convergence invariant end to end, against the
// emulator with its reordering of tasks and depends_on switched on: for every
// example and every planner golden case, apply then plan shows no changes,
// and applying again sends no write. It also holds the noise test: jobs
// created through the raw API with exactly the YAML's settings plan as no-op.

const convWorkspace = "https://example.cloud.databricks.com"

type convWorld struct {
	t      *testing.T
	emu    *emulator.Server
	client *jobsapi.Client
	store  *state.Store
}

// newConvWorld serves an emulator that knows the principals of dir (the
// workspace's users, groups and service principals).
func newConvWorld(t *testing.T, project string, dir emulator.Directory) *convWorld {
	t.Helper()
	emu, c := emutest.Start(t, emulator.Options{ReorderReads: true, Directory: dir}, jobsapi.Options{})
	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "jobsync.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	st.Init(convWorkspace, project)
	return &convWorld{t: t, emu: emu, client: c, store: st}
}

func (w *convWorld) plan(in planner.Input) *planner.Plan {
	w.t.Helper()
	in.Lock = w.store.File()
	in.Workspace = convWorkspace
	in.Now = time.Unix(0, 0).UTC()
	p, _, err := refresh.Plan(context.Background(), w.client, in, refresh.Options{Strategy: refresh.List})
	if err != nil {
		w.t.Fatalf("plan: %v", err)
	}
	return p
}

func (w *convWorld) apply(p *planner.Plan) {
	w.t.Helper()
	res, err := applier.Apply(context.Background(), p, w.client, w.store, applier.Options{})
	if err != nil || len(res.Failed) > 0 {
		w.t.Fatalf("apply: %v %+v", err, res)
	}
}

// converge applies in's plan, then requires an empty plan and a second
// apply that writes nothing.
func (w *convWorld) converge(in planner.Input) {
	w.t.Helper()
	first := w.plan(in)
	w.t.Logf("first plan: %v, %d records", first.Counts(), len(first.Records))
	w.apply(first)
	again := w.plan(in)
	if !again.Empty() || len(again.Records) > 0 {
		var buf bytes.Buffer
		_ = planner.WritePlan(&buf, again)
		w.t.Fatalf("plan after apply is not empty:\n%s", buf.String())
	}
	w.emu.ResetRequests()
	w.apply(again)
	for _, r := range w.emu.Requests() {
		if r.Method != http.MethodGet {
			w.t.Errorf("second apply sent a write: %s %s", r.Method, r.Path)
		}
	}
}

func loadDir(t *testing.T, dir string) []*schema.Job {
	t.Helper()
	cfg, err := schema.Load(context.Background(), []string{dir})
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	return cfg.Jobs
}

func TestConvergenceExamples(t *testing.T) {
	w := newConvWorld(t, "examples", examplePrincipals(t))
	w.converge(planner.Input{Desired: loadDir(t, "examples/jobs"), Project: "examples"})
}

// TestConvergencePlannerGoldens replays every planner golden case against
// the emulator: its live jobs are created through the raw API, its lockfile
// (if any) is remapped to their new ids, and the case's plan is applied.
func TestConvergencePlannerGoldens(t *testing.T) {
	files, err := filepath.Glob("planner/testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no planner golden cases: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			parts := map[string][]byte{}
			for _, f := range ar.Files {
				parts[f.Name] = f.Data
			}
			if _, ok := parts["error.txt"]; ok {
				return // a case whose point is that Build refuses it
			}
			in := planner.Input{Project: "acme"}
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				k, v, ok := strings.Cut(line, ":")
				if !ok || strings.HasPrefix(line, "#") {
					continue
				}
				switch v = strings.TrimSpace(v); strings.TrimSpace(k) {
				case "project":
					in.Project = v
				case "prune":
					in.Prune = v == "true"
				case "destroy":
					in.Destroy = v == "true"
				case "only":
					in.Only = strings.Split(v, ",")
				}
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "desired.yaml"), parts["desired.yaml"], 0o644); err != nil {
				t.Fatal(err)
			}
			in.Desired = loadDir(t, dir)
			w := newConvWorld(t, in.Project, directoryFor(in.Desired))
			ids := w.seedLive(parts["live.json"])
			if lock := parts["lock.json"]; lock != nil {
				w.seedLock(lock, ids)
			}
			w.converge(in)
		})
	}
}

// seedLive creates the case's live jobs and returns old id → new id.
func (w *convWorld) seedLive(data []byte) map[int64]int64 {
	w.t.Helper()
	var live []struct {
		JobID    int64          `json:"job_id"`
		Settings map[string]any `json:"settings"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&live); err != nil {
		w.t.Fatalf("live.json: %v", err)
	}
	ids := map[int64]int64{}
	// A reference to another live job must name its new id: create the
	// referenced ones first.
	sort.Slice(live, func(i, j int) bool { return len(refIDs(live[i].Settings)) < len(refIDs(live[j].Settings)) })
	for _, l := range live {
		body, err := json.Marshal(l.Settings)
		if err != nil {
			w.t.Fatal(err)
		}
		body = remapIDs(body, ids)
		id, err := w.client.CreateJob(context.Background(), body)
		if err != nil {
			w.t.Fatalf("seeding job %d: %v", l.JobID, err)
		}
		ids[l.JobID] = id
	}
	return ids
}

var jobIDField = regexp.MustCompile(`"job_id":\s*(\d+)`)

func refIDs(settings map[string]any) []string {
	b, _ := json.Marshal(settings)
	return jobIDField.FindAllString(string(b), -1)
}

func remapIDs(body []byte, ids map[int64]int64) []byte {
	return jobIDField.ReplaceAllFunc(body, func(m []byte) []byte {
		old, _ := strconv.ParseInt(string(jobIDField.FindSubmatch(m)[1]), 10, 64)
		if n, ok := ids[old]; ok {
			return []byte(fmt.Sprintf(`"job_id":%d`, n))
		}
		return m
	})
}

// seedLock records the case's lockfile entries under the new job ids; an
// entry whose job is not live gets an id that does not exist.
func (w *convWorld) seedLock(data []byte, ids map[int64]int64) {
	w.t.Helper()
	var f state.File
	dec := json.NewDecoder(bytes.NewReader(remapIDs(data, ids)))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		w.t.Fatalf("lock.json: %v", err)
	}
	for key, j := range f.Jobs {
		if err := w.store.Record(context.Background(), key, j); err != nil {
			w.t.Fatal(err)
		}
	}
}

// TestNoiseRawCreate: a job created through the raw API with exactly the
// settings of the YAML (plus the ownership tag and its grants), so that the
// server adds its defaults, plans as no-op.
func TestNoiseRawCreate(t *testing.T) {
	const project = "noise"
	desired := loadDir(t, "examples/jobs")
	w := newConvWorld(t, project, examplePrincipals(t))
	ids := map[string]int64{}
	pending := append([]*schema.Job(nil), desired...)
	for len(pending) > 0 {
		var next []*schema.Job
		for _, j := range pending {
			ready := true
			for _, ref := range j.References() {
				if _, ok := ids[ref]; !ok {
					ready = false
				}
			}
			if !ready {
				next = append(next, j)
				continue
			}
			settings := map[string]any{}
			for k, v := range j.Settings {
				settings[k] = v
			}
			tags := map[string]any{planner.OwnerTagKey: planner.OwnerTagValue(project, j.Key)}
			if t0, ok := settings["tags"].(map[string]any); ok {
				for k, v := range t0 {
					tags[k] = v
				}
			}
			settings["tags"] = tags
			if j.Permissions != nil {
				settings["access_control_list"] = j.Permissions
			}
			body, err := json.Marshal(settings)
			if err != nil {
				t.Fatal(err)
			}
			body, err = planner.Resolve(body, ids)
			if err != nil {
				t.Fatal(err)
			}
			id, err := w.client.CreateJob(context.Background(), body)
			if err != nil {
				t.Fatalf("raw create of %s: %v", j.Key, err)
			}
			ids[j.Key] = id
		}
		if len(next) == len(pending) {
			t.Fatal("examples have a reference cycle")
		}
		pending = next
	}
	p := w.plan(planner.Input{Desired: desired, Project: project})
	if !p.Empty() {
		var buf bytes.Buffer
		_ = planner.WritePlan(&buf, p)
		t.Fatalf("jobs created with exactly the YAML's settings plan as changes:\n%s", buf.String())
	}
	if len(p.Records) != len(desired) {
		t.Fatalf("%d jobs adopted by tag, want %d", len(p.Records), len(desired))
	}
}
