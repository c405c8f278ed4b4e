package planner_test

import (
	"encoding/json"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/jobsync/jobsync/planner"
)

// planText is a plan (or its error) as text, for comparing.
func planText(p *planner.Plan, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	if err := planner.WritePlan(&b, p); err != nil {
		return "WritePlan: " + err.Error()
	}
	return b.String()
}

// rawLive is live with its settings as JSON, as a listing keeps them.
func rawLive(t testing.TB, live []planner.Live) []planner.Live {
	out := make([]planner.Live, len(live))
	for i, l := range live {
		out[i] = l
		if l.Settings != nil {
			data, err := json.Marshal(l.Settings)
			if err != nil {
				t.Fatal(err)
			}
			out[i].Settings, out[i].RawSettings = nil, data
		}
	}
	return out
}

// TestBuilderIsBuild: for every golden case, planning each job as it
// arrives (Build, and a Builder fed pages of every size, with raw or
// decoded settings, then given every job again as a fresh read) makes the
// plan, or the error, that planning once every job is known makes.
func TestBuilderIsBuild(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	rng := rand.New(rand.NewSource(16))
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			in := goldenInput(t, ar)
			want := planText(planner.BuildWithoutSpeculation(in))
			if got := planText(planner.Build(in)); got != want {
				t.Fatalf("Build:\n%s\nwithout speculation:\n%s", got, want)
			}
			for _, raw := range []bool{false, true} {
				live := in.Live
				if raw {
					live = rawLive(t, live)
				}
				for page := 1; page <= len(live)+1; page++ {
					b, err := planner.NewBuilder(in)
					if err != nil {
						if got := planText(nil, err); got != want {
							t.Fatalf("NewBuilder: %s, want %s", got, want)
						}
						return
					}
					for i := 0; i < len(live); i += page {
						b.Add(live[i:min(i+page, len(live))])
					}
					if got := planText(b.Plan()); got != want {
						t.Fatalf("pages of %d (raw %v):\n%s\nwant:\n%s", page, raw, got, want)
					}
					// Every job read again, in another order: the same plan.
					again := append([]planner.Live(nil), live...)
					rng.Shuffle(len(again), func(i, j int) { again[i], again[j] = again[j], again[i] })
					b.Replace(again)
					if got := planText(b.Plan()); got != want {
						t.Fatalf("after Replace (pages of %d, raw %v):\n%s\nwant:\n%s", page, raw, got, want)
					}
				}
			}
		})
	}
}

// TestBuilderPlansEachJobOnce: a no-change workspace of 200 jobs (one of
// them drifted, one referring to another), listed in pages, is planned
// job by job as the pages come; Plan plans none of them again, and a
// fresh read of the drifted job is the only one planned again.
func TestBuilderPlansEachJobOnce(t *testing.T) {
	in := planner.Input{Project: "acme", Workspace: "https://example", Now: time.Unix(0, 0)}
	const n = 200
	for i := 0; i < n; i++ {
		j := benchJob(i)
		if i == 7 {
			j.Settings["tasks"] = append(j.Settings["tasks"].([]any), map[string]any{"task_key": "next",
				"run_job_task": map[string]any{"job_id": "${jobs.job_00003.id}"}, "depends_on": []any{map[string]any{"task_key": "load"}}})
		}
		in.Desired = append(in.Desired, j)
	}
	p, err := planner.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, nil)
	in.Lock = s.apply(p, nil)
	live := rawLive(t, s.live())
	for i := range live {
		if id := in.Lock.Jobs["job_00042"].JobID; live[i].JobID == id {
			var m map[string]any
			json.Unmarshal(live[i].RawSettings, &m)
			m["max_concurrent_runs"] = 2
			live[i].RawSettings, _ = json.Marshal(m)
		}
	}
	b, err := planner.NewBuilder(in)
	if err != nil {
		t.Fatal(err)
	}
	var writes []int64
	for i := 0; i < n; i += 50 {
		writes = append(writes, b.Add(live[i:i+50])...)
	}
	if b.Planned() != n {
		t.Errorf("planned %d keys while adding %d jobs, want each once", b.Planned(), n)
	}
	if len(writes) != 1 || writes[0] != in.Lock.Jobs["job_00042"].JobID {
		t.Errorf("writes %v, want job_00042's job only", writes)
	}
	p, err = b.Plan()
	if err != nil || len(p.Actions) != 1 {
		t.Fatalf("plan: %v, %v", p, err)
	}
	if b.Planned() != n {
		t.Errorf("Plan planned %d keys again", b.Planned()-n)
	}
	in.Live = live
	if got, want := planText(p, nil), planText(planner.BuildWithoutSpeculation(in)); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	for _, l := range live {
		if l.JobID == writes[0] {
			b.Replace([]planner.Live{l})
		}
	}
	if _, err := b.Plan(); err != nil || b.Planned() != n+1 {
		t.Errorf("after replacing one job: %v, %d keys planned again, want 1", err, b.Planned()-n)
	}
}
