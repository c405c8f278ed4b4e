package planner_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

// A job whose base parameter conn comes from a sensitive variable: its path
// does not look secret, so only the job's Secrets (schema.Job.Secrets) say
// so.
const (
	sensitiveSecret = "jdbc:postgresql://db/prod?password=Zk8vQ2pL"
	sensitiveYAML   = "jobs:\n  j:\n    name: etl\n    tasks:\n      - task_key: a\n        notebook_task:\n          notebook_path: /a\n          base_parameters: {conn: %q, region: eu}\n"
)

func sensitivePlan(t *testing.T, secret string, live []planner.Live, lock *state.File) *planner.Plan {
	t.Helper()
	jobs := loadYAML(t, "jobs.yaml", []byte(strings.Replace(sensitiveYAML, "%q", `"`+secret+`"`, 1)))
	jobs[0].Secrets = []string{secret}
	p, err := planner.Build(planner.Input{Desired: jobs, Live: live, Lock: lock, Project: "acme", Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// shown is everything of a plan that is shown to people: the changes
// (every rendering is made from them) and the reasons.
func shown(t *testing.T, p *planner.Plan) string {
	t.Helper()
	var b strings.Builder
	for _, a := range p.Actions {
		c, err := json.Marshal(a.Changes)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(a.Reason + "\n" + string(c) + "\n")
	}
	return b.String()
}

// TestSensitiveValues: the lockfile keeps a seal of a sensitive value, never
// the value; labelling still tells config from drift by comparing seals;
// no change shows the value, whichever side changed; a lockfile written
// with the value in clear is rewritten sealed.
func TestSensitiveValues(t *testing.T) {
	// Create: the request carries the value (the API needs it), the
	// recorded settings and the changes do not.
	p := sensitivePlan(t, sensitiveSecret, nil, nil)
	a := one(t, p)
	if !strings.Contains(string(a.Request), sensitiveSecret) {
		t.Fatalf("the create request lacks the value: %s", a.Request)
	}
	applied, err := json.Marshal(a.Applied)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(applied), sensitiveSecret) || !strings.Contains(string(applied), `"conn":"(sensitive sha256:`) {
		t.Errorf("recorded settings: %s, want conn sealed", applied)
	}
	if s := shown(t, p); strings.Contains(s, sensitiveSecret) || !strings.Contains(s, "(sensitive)") {
		t.Errorf("the create shows the value: %s", s)
	}

	// The job as created, and the lockfile as the applier writes it.
	var sent map[string]any
	if err := json.Unmarshal(a.Request, &sent); err != nil {
		t.Fatal(err)
	}
	liveJSON, _ := json.Marshal(sent)
	live := []planner.Live{liveOf(t, 7, "j", string(liveJSON))}
	raw, err := state.EncodeApplied(a.Applied)
	if err != nil {
		t.Fatal(err)
	}
	lock := &state.File{Lineage: "l", Serial: 1, Jobs: map[string]state.Job{"j": {JobID: 7, Applied: raw}}}

	// Nothing changed: an empty plan, nothing to record again.
	if p := sensitivePlan(t, sensitiveSecret, live, lock); len(p.Actions) != 0 || len(p.Records) != 0 {
		t.Fatalf("unchanged job: %d actions, %d records:\n%s", len(p.Actions), len(p.Records), fmtActions(p))
	}

	// The YAML's value changed: a config change, shown as (sensitive).
	const newSecret = "jdbc:postgresql://db/prod?password=Rt5mW9xQ"
	p = sensitivePlan(t, newSecret, live, lock)
	a = one(t, p)
	if len(a.Changes) != 1 || a.Changes[0].Origin != planner.OriginConfig || a.Changes[0].Before != planner.Sensitive || a.Changes[0].After != planner.Sensitive {
		t.Errorf("config change: %+v, want one config change, (sensitive) on both sides", a.Changes)
	}
	if s := shown(t, p); strings.Contains(s, newSecret) || strings.Contains(s, sensitiveSecret) {
		t.Errorf("the update shows a value: %s", s)
	}

	// The workspace's value changed (a value nobody declared sensitive,
	// where a sealed one stood): drift, and still not shown.
	const liveSecret = "jdbc:postgresql://db/prod?password=changedInTheUI"
	drifted := []planner.Live{liveOf(t, 7, "j", strings.Replace(string(liveJSON), sensitiveSecret, liveSecret, 1))}
	p = sensitivePlan(t, sensitiveSecret, drifted, lock)
	a = one(t, p)
	if len(a.Changes) != 1 || a.Changes[0].Origin != planner.OriginDrift || a.Changes[0].Before != planner.Sensitive {
		t.Errorf("drift: %+v, want one drift change, (sensitive)", a.Changes)
	}
	if s := shown(t, p); strings.Contains(s, liveSecret) || strings.Contains(s, sensitiveSecret) {
		t.Errorf("the drift shows a value: %s", s)
	}

	// drift itself: the lockfile's seals replayed as the desired settings
	// match the workspace's values, and a drifted value is not shown.
	for _, c := range []struct {
		live  []planner.Live
		drift bool
	}{{live, false}, {drifted, true}} {
		desired, err := planner.DriftDesired(lock, "jobsync.lock.json")
		if err != nil {
			t.Fatal(err)
		}
		dp, err := planner.Build(planner.Input{Desired: desired, Live: c.live, Lock: lock, Project: "acme", Now: time.Unix(0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		rep := planner.Drift(dp, c.live)
		if rep.Found() != c.drift {
			t.Errorf("drift found %v, want %v: %+v", rep.Found(), c.drift, rep.Changed)
		}
		b, _ := json.Marshal(rep)
		if strings.Contains(string(b), liveSecret) || strings.Contains(string(b), sensitiveSecret) {
			t.Errorf("the drift report shows a value: %s", b)
		}
	}

	// A lockfile from before sealing, holding the value in clear: the job
	// is unchanged, and the record is rewritten sealed.
	clear, _ := json.Marshal(planner.Normalize(sent))
	old := &state.File{Lineage: "l", Serial: 1, Jobs: map[string]state.Job{"j": {JobID: 7, Applied: clear}}}
	p = sensitivePlan(t, sensitiveSecret, live, old)
	if len(p.Actions) != 0 || len(p.Records) != 1 {
		t.Fatalf("old lockfile: %d actions, %d records, want one record", len(p.Actions), len(p.Records))
	}
	rec, _ := json.Marshal(p.Records[0].Applied)
	if strings.Contains(string(rec), sensitiveSecret) || !strings.Contains(string(rec), "(sensitive sha256:") {
		t.Errorf("rewritten record %s, want the value sealed", rec)
	}
}

// TestSealHeuristics: without any declared secret, values that redaction
// hides are sealed too, and so are values with a credential's form,
// wherever they stand. Seals are stable, never sealed again, and equal the
// value they seal.
func TestSealHeuristics(t *testing.T) {
	settings := mustJSON(t, `{
		"name": "x",
		"git_source": {"git_url": "https://bot:ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@github.com/a/b.git"},
		"parameters": [{"name": "api_key", "default": "k1"}, {"name": "day", "default": "today"}],
		"tasks": [{"task_key": "t",
			"notebook_task": {"notebook_path": "/n", "base_parameters": {"note": "token dapi0123456789abcdef0123456789abcdef inside", "plain": "hello"}},
			"new_cluster": {"spark_env_vars": {"DB_PASSWORD": "p", "LEVEL": "debug"}},
			"spark_python_task": {"python_file": "f.py", "parameters": ["--token", "t1", "--client-secret=s1", "--verbose"]}}]
	}`)
	sealed := planner.Seal(settings, nil)
	b, _ := json.Marshal(sealed)
	for _, clear := range []string{"ghp_aaaa", `"k1"`, "dapi0123456789", `"p"`, `"t1"`, "s1"} {
		if strings.Contains(string(b), clear) {
			t.Errorf("sealed settings still hold %s: %s", clear, b)
		}
	}
	for _, kept := range []string{`"today"`, `"hello"`, `"debug"`, `"--verbose"`, `"--token"`, `"/n"`} {
		if !strings.Contains(string(b), kept) {
			t.Errorf("sealed settings lost %s: %s", kept, b)
		}
	}
	if again, _ := json.Marshal(planner.Seal(sealed, nil)); string(again) != string(b) {
		t.Errorf("sealing twice changed the seals:\n%s\n%s", b, again)
	}
	if n, _ := json.Marshal(planner.Normalize(sealed)); string(n) != string(mustMarshal(t, planner.Normalize(planner.Seal(planner.Normalize(settings), nil)))) {
		t.Errorf("sealing and normalising do not commute:\n%s", n)
	}
	if orig, _ := json.Marshal(settings); strings.Contains(string(orig), "(sensitive") {
		t.Error("Seal modified its argument")
	}
	// The diff of sealed and clear settings is empty: a seal equals its
	// value.
	if d := planner.Diff(planner.Normalize(sealed), planner.Normalize(settings)); len(d) != 0 {
		t.Errorf("sealed vs clear: %+v, want no difference", d)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
