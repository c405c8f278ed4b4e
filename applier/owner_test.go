package applier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
)

// writesTo returns the logged write requests (anything but GET) that name
// job id, in their path or as the job_id of their body.
func (e *env) writesTo(id int64) []emulator.Request {
	var out []emulator.Request
	for _, r := range e.emu.Requests() {
		if r.Method != http.MethodGet && r.About(id) {
			out = append(out, r)
		}
	}
	return out
}

// foreignJob creates a job that is not ours: without a jobsync tag, or with
// another project's.
func foreignJob(t *testing.T, e *env, tag string) int64 {
	t.Helper()
	s := map[string]any{"name": "someone else's", "tasks": []any{map[string]any{"task_key": "x", "notebook_task": map[string]any{"notebook_path": "/x"}}}}
	if tag != "" {
		s["tags"] = map[string]any{"jobsync": tag}
	}
	body, _ := json.Marshal(s)
	id, err := e.client.CreateJob(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSavedPlanNeverWritesForeignJob: a saved plan is re-read at apply time,
// and the fresh read's tag must be the action's key's, so a plan file
// edited to point at someone else's job (or made before that job lost our
// tag) writes nothing to it, for every kind of write.
func TestSavedPlanNeverWritesForeignJob(t *testing.T) {
	ctx := context.Background()
	for _, tag := range []string{"", "other/a"} {
		for _, op := range []planner.Op{planner.OpUpdate, planner.OpReset, planner.OpDelete, planner.OpPermissions} {
			t.Run(fmt.Sprintf("%q/%s", tag, op), func(t *testing.T) {
				e := newEnv(t, emulator.Options{})
				desired := jobs("a", "b")
				e.converge(desired, false)
				foreign := foreignJob(t, e, tag)

				switch op {
				case planner.OpUpdate:
					desired[0].Settings["timeout_seconds"] = json.Number("600")
				case planner.OpReset:
					desired[0].Settings["parameters"] = []any{map[string]any{"name": "p", "default": "1"}}
				case planner.OpDelete:
					desired = desired[1:]
				case planner.OpPermissions:
					desired[0].Permissions = []schema.Permission{{GroupName: "ops", PermissionLevel: "CAN_VIEW"}}
				}
				p := e.plan(desired, op == planner.OpDelete)
				if len(p.Actions) != 1 || p.Actions[0].Op != op || p.Actions[0].Key != "a" {
					t.Fatalf("plan %+v", p.Actions)
				}
				// Aim the action at the foreign job, request body and all.
				act := &p.Actions[0]
				ours := act.JobID
				act.JobID = foreign
				act.Request = json.RawMessage(strings.ReplaceAll(string(act.Request), fmt.Sprint(ours), fmt.Sprint(foreign)))
				p = savedPlan(t, p)

				e.emu.ResetRequests()
				res, err := e.apply(ctx, p, Options{CheckLive: true})
				var oe *planner.OwnershipError
				if !errors.As(err, &oe) || oe.Key != "a" || oe.JobID != foreign || oe.Tag != tag || oe.Op != op {
					t.Fatalf("want an ownership error for a and job %d, got %v (result %+v)", foreign, err, res)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("the saved plan's %s of \"a\" writes to job %d", op, foreign)) {
					t.Errorf("message: %v", err)
				}
				if w := e.writesTo(foreign); len(w) > 0 {
					t.Errorf("wrote to the foreign job: %+v", w)
				}
				if _, err := e.client.GetJob(ctx, foreign); err != nil {
					t.Errorf("the foreign job: %v", err)
				}
			})
		}
	}
}

// TestSavedPlanJobLostItsTag: the tag of a planned job removed in the
// workspace after the plan was made is an ownership refusal, not a write.
func TestSavedPlanJobLostItsTag(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	desired := jobs("a")
	e.converge(desired, false)
	id := e.lock().Jobs["a"].JobID
	desired[0].Settings["timeout_seconds"] = json.Number("600")
	p := savedPlan(t, e.plan(desired, false))
	if err := e.client.UpdateJob(ctx, json.RawMessage(fmt.Sprintf(`{"job_id":%d,"new_settings":{"tags":{"team":"x"}}}`, id))); err != nil {
		t.Fatal(err)
	}
	e.emu.ResetRequests()
	_, err := e.apply(ctx, p, Options{CheckLive: true})
	var oe *planner.OwnershipError
	if !errors.As(err, &oe) || oe.JobID != id || oe.Tag != "" {
		t.Fatalf("got %v", err)
	}
	if w := e.writesTo(id); len(w) > 0 {
		t.Errorf("wrote to the job that lost its tag: %+v", w)
	}
}

// TestRequestNamesAnotherJob: an update or reset whose body names another
// job than the action's is refused before anything is sent, saved plan or
// not.
func TestRequestNamesAnotherJob(t *testing.T) {
	ctx := context.Background()
	for _, checkLive := range []bool{false, true} {
		e := newEnv(t, emulator.Options{})
		desired := jobs("a")
		e.converge(desired, false)
		foreign := foreignJob(t, e, "")
		desired[0].Settings["timeout_seconds"] = json.Number("600")
		p := e.plan(desired, false)
		act := &p.Actions[0]
		act.Request = json.RawMessage(strings.ReplaceAll(string(act.Request), fmt.Sprint(act.JobID), fmt.Sprint(foreign)))
		e.emu.ResetRequests()
		_, err := e.apply(ctx, p, Options{CheckLive: checkLive})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("its request body names job %d", foreign)) {
			t.Errorf("CheckLive %v: got %v", checkLive, err)
		}
		if w := e.writesTo(foreign); len(w) > 0 {
			t.Errorf("CheckLive %v: wrote to the foreign job: %+v", checkLive, w)
		}
	}
}

// TestImportEdges: Import writes the tag only when it is missing, never
// past the API's tag limit, and records nothing when the tag write fails.
func TestImportEdges(t *testing.T) {
	ctx := context.Background()
	in := func(id int64) ImportInput {
		return ImportInput{Workspace: "https://emulator", Project: testProject, Key: "adopted", JobID: id, Configured: true}
	}
	create := func(t *testing.T, e *env, tags map[string]any) int64 {
		body, _ := json.Marshal(map[string]any{"name": "by hand", "tags": tags})
		id, err := e.client.CreateJob(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}

	t.Run("25 tags", func(t *testing.T) {
		e := newEnv(t, emulator.Options{})
		tags := map[string]any{}
		for i := 0; i < 25; i++ {
			tags[fmt.Sprintf("t%02d", i)] = "x"
		}
		id := create(t, e, tags)
		e.emu.ResetRequests()
		_, err := Import(ctx, e.client, e.store(), in(id))
		if err == nil || !strings.Contains(err.Error(), "has 25 tags, the most the Jobs API allows") {
			t.Fatalf("got %v", err)
		}
		if w := e.writesTo(id); len(w) > 0 {
			t.Errorf("wrote %+v", w)
		}
		if f := e.store().File(); f != nil && len(f.Jobs) > 0 {
			t.Errorf("recorded %+v", f.Jobs)
		}
	})

	t.Run("tag write fails", func(t *testing.T) {
		e := newEnv(t, emulator.Options{})
		id := create(t, e, nil)
		e.emu.InjectFault(emulator.Fault{Method: "POST", Endpoint: "jobs/update", Status: 403, ErrorCode: "PERMISSION_DENIED", Message: "no"})
		_, err := Import(ctx, e.client, e.store(), in(id))
		if err == nil || !strings.Contains(err.Error(), "adding the ownership tag") {
			t.Fatalf("got %v", err)
		}
		if f := e.store().File(); f != nil && len(f.Jobs) > 0 {
			t.Errorf("a job whose tag was not written was recorded: %+v", f.Jobs)
		}
	})

	t.Run("already tagged", func(t *testing.T) {
		e := newEnv(t, emulator.Options{})
		id := create(t, e, map[string]any{"jobsync": planner.OwnerTagValue(testProject, "adopted")})
		e.emu.ResetRequests()
		imp, err := Import(ctx, e.client, e.store(), in(id))
		if err != nil || imp.Tagged {
			t.Fatalf("got %+v, %v", imp, err)
		}
		if w := e.writesTo(id); len(w) > 0 {
			t.Errorf("wrote %+v", w)
		}
		if got := e.lock().Jobs["adopted"].JobID; got != id {
			t.Errorf("recorded job %d, want %d", got, id)
		}
		// Once recorded and tagged there is nothing to import.
		if _, err := Import(ctx, e.client, e.store(), in(id)); err == nil || !strings.Contains(err.Error(), "nothing to import") {
			t.Errorf("second import: %v", err)
		}
	})

	// A key whose job exists (tagged, but missing from the lockfile: a
	// lockfile lost or restored from an old commit) is not given a second
	// job: two jobs with one key's tag stop every plan of the key.
	t.Run("another job carries the tag", func(t *testing.T) {
		e := newEnv(t, emulator.Options{})
		owned := create(t, e, map[string]any{"jobsync": planner.OwnerTagValue(testProject, "adopted")})
		id := create(t, e, nil)
		e.emu.ResetRequests()
		_, err := Import(ctx, e.client, e.store(), in(id))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("job %d already carries", owned)) {
			t.Fatalf("got %v", err)
		}
		if w := e.writesTo(id); len(w) > 0 {
			t.Errorf("wrote %+v", w)
		}
		if f := e.store().File(); f != nil && len(f.Jobs) > 0 {
			t.Errorf("recorded %+v", f.Jobs)
		}
	})

	t.Run("not configured", func(t *testing.T) {
		e := newEnv(t, emulator.Options{})
		id := create(t, e, nil)
		i := in(id)
		i.Configured = false
		if _, err := Import(ctx, e.client, e.store(), i); err == nil || !strings.Contains(err.Error(), "no job \"adopted\" in the YAML") {
			t.Errorf("got %v", err)
		}
	})
}

// Ownership scopes nest: project "proj/test" without a target, and the
// same project's target "sub" ("proj/test/sub"). A key never holds a "/",
// so a lockfile entry whose key does ("sub/etl", written by hand) names no
// job of this scope, even though "proj/test" + "/" + "sub/etl" spells the
// other scope's tag: --prune must not delete that job, nor anything write
// to it.
func TestLockfileKeyWithSlashOwnsNothing(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ctx := context.Background()
	e.converge(jobs("a"), false)
	foreign := foreignJob(t, e, testProject+"/sub/etl")
	data, err := os.ReadFile(e.lockPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["jobs"].(map[string]any)["sub/etl"] = map[string]any{"job_id": foreign}
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.lockPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.emu.ResetRequests()
	p, err := buildPlan(ctx, e.client, e.lockPath, jobs("a"), true)
	var oe *planner.OwnershipError
	if err == nil {
		for _, a := range p.Actions {
			if a.JobID == foreign {
				t.Errorf("the plan %s job %d, which belongs to the scope %s/sub", a.Op, foreign, testProject)
			}
		}
		if _, err := e.apply(ctx, p, Options{}); err != nil {
			t.Fatal(err)
		}
	} else if !errors.As(err, &oe) || oe.JobID != foreign {
		t.Fatalf("plan: %v", err)
	}
	if w := e.writesTo(foreign); len(w) > 0 {
		t.Errorf("wrote to the other scope's job: %+v", w)
	}
	if _, err := e.client.GetJob(ctx, foreign); err != nil {
		t.Errorf("the other scope's job: %v", err)
	}
}
