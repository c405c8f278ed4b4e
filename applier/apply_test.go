package applier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Creates run in reference order, each reference is resolved to the id of
// the job it names, everything is recorded, and a fresh plan is empty.
func TestApplyOrderAndReferences(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	desired := []*schema.Job{job("c", "b"), job("b", "a"), job("a"), job("d"), job("e", "a", "d")}
	p := e.plan(desired, false)
	if got := p.Counts()[planner.OpCreate]; got != 5 {
		t.Fatalf("plan has %d creates, want 5", got)
	}
	var events []Event
	res, err := e.apply(context.Background(), p, Options{Progress: func(ev Event) { events = append(events, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 5 || len(res.Failed) != 0 || len(res.NotStarted) != 0 {
		t.Fatalf("result %+v", res)
	}

	// Creation order, from the server's log: each job after those it runs.
	var order []string
	for _, r := range requestsTo(e.emu, "POST", "jobs/create") {
		var b struct{ Name string }
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		order = append(order, strings.TrimPrefix(b.Name, "test "))
	}
	pos := func(k string) int { return slices.Index(order, k) }
	for _, dep := range [][2]string{{"a", "b"}, {"b", "c"}, {"a", "e"}, {"d", "e"}} {
		if pos(dep[0]) < 0 || pos(dep[0]) > pos(dep[1]) {
			t.Errorf("%s created before %s (order %v)", dep[1], dep[0], order)
		}
	}

	// References resolved to the real ids, in the workspace and the lockfile.
	lf := e.lock()
	for _, ref := range [][2]string{{"b", "a"}, {"c", "b"}, {"e", "a"}, {"e", "d"}} {
		j, err := e.client.GetJob(context.Background(), lf.Jobs[ref[0]].JobID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := runJobID(j.Settings, "run_"+ref[1]), lf.Jobs[ref[1]].JobID; got != want {
			t.Errorf("%s runs job %d, want %d (%s)", ref[0], got, want, ref[1])
		}
		recorded, err := lf.Jobs[ref[0]].AppliedSettings()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := runJobID(recorded, "run_"+ref[1]), lf.Jobs[ref[1]].JobID; got != want {
			t.Errorf("lockfile: %s runs job %d, want %d", ref[0], got, want)
		}
	}
	if len(lf.Jobs) != 5 || lf.Serial != 1 {
		t.Errorf("lockfile has %d jobs, serial %d", len(lf.Jobs), lf.Serial)
	}

	// Progress: a start and a done per action, Done counting up to Total.
	var starts, dones int
	for _, ev := range events {
		switch ev.Phase {
		case PhaseStart:
			starts++
		case PhaseDone:
			dones++
			if ev.Done != dones || ev.Total != 5 || ev.JobID == 0 {
				t.Errorf("event %+v", ev)
			}
		}
	}
	if starts != 5 || dones != 5 {
		t.Errorf("%d starts, %d dones", starts, dones)
	}
	e.assertConverged(desired, false)
}

func runJobID(settings map[string]any, taskKey string) int64 {
	tasks, _ := settings["tasks"].([]any)
	for _, t := range tasks {
		m, _ := t.(map[string]any)
		if m["task_key"] != taskKey {
			continue
		}
		rj, _ := m["run_job_task"].(map[string]any)
		var id int64
		fmt.Sscan(fmt.Sprint(rj["job_id"]), &id)
		return id
	}
	return -1
}

// No more requests are in flight than Parallelism allows, and independent
// actions do overlap.
func TestParallelismBound(t *testing.T) {
	e := newEnv(t, emulator.Options{Latency: 20 * time.Millisecond})
	var keys []string
	for i := range 24 {
		keys = append(keys, fmt.Sprintf("j%02d", i))
	}
	desired := jobs(keys...)
	p := e.plan(desired, false)
	e.maxInflight.Store(0)
	if _, err := e.apply(context.Background(), p, Options{Parallelism: 4}); err != nil {
		t.Fatal(err)
	}
	if m := e.maxInflight.Load(); m > 4 || m < 2 {
		t.Errorf("at most %d requests were in flight at once, want 2..4", m)
	}
	if got := len(requestsTo(e.emu, "POST", "jobs/create")); got != 24 {
		t.Errorf("%d creates, want 24", got)
	}
	e.assertConverged(desired, false)
}

// The first failure stops new actions; the ones in flight finish and are
// recorded; the rest are reported not started.
func TestFailureStopsNewActions(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		e := newEnv(t, emulator.Options{})
		desired := jobs("a", "b", "c", "d", "e")
		p := e.plan(desired, false)
		dones := 0
		res, err := e.apply(context.Background(), p, Options{Parallelism: 1, Progress: func(ev Event) {
			if ev.Phase == PhaseDone {
				if dones++; dones == 2 {
					e.emu.InjectFault(emulator.Fault{Method: "POST", Endpoint: "jobs/create", Status: 400,
						ErrorCode: "INVALID_PARAMETER_VALUE", Message: "injected"})
				}
			}
		}})
		if err == nil || !strings.Contains(err.Error(), "injected") {
			t.Fatalf("err = %v", err)
		}
		want := &Result{Applied: []string{"a", "b"}, NotStarted: []string{"d", "e"}}
		if !reflect.DeepEqual(res.Applied, want.Applied) || !reflect.DeepEqual(res.NotStarted, want.NotStarted) ||
			len(res.Failed) != 1 || res.Failed[0].Key != "c" {
			t.Fatalf("result %+v", res)
		}
		if got := e.lock().Keys(); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Errorf("lockfile keys %v, want [a b]", got)
		}
		// The next apply finishes the job.
		e.converge(desired, false)
		e.assertConverged(desired, false)
	})
	t.Run("parallel", func(t *testing.T) {
		e := newEnv(t, emulator.Options{})
		desired := jobs("a", "b", "c", "d", "e", "f", "g", "h")
		p := e.plan(desired, false)
		e.emu.InjectFault(emulator.Fault{Method: "POST", Endpoint: "jobs/create", Status: 400,
			ErrorCode: "INVALID_PARAMETER_VALUE", Message: "injected"})
		// Four creates are in flight at once; the fourth to arrive is
		// served first and gets the fault, and the three others are
		// answered only once the applier has seen that failure. Otherwise
		// a success answered first would, rightly, start the next action
		// before the failure is known, and how many do depends on how a
		// loaded machine schedules the answers.
		var arrived atomic.Int32
		failedSeen := make(chan struct{})
		var once sync.Once
		f := aroundFunc(func(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc) {
			if strings.HasSuffix(r.URL.Path, "/jobs/create") {
				if n := arrived.Add(1); n < 4 {
					select {
					case <-failedSeen:
					case <-time.After(10 * time.Second):
						t.Error("four creates were never in flight at once, or the failure was never seen")
					}
				}
			}
			serve(w, r)
		})
		e.around.Store(&f)
		res, err := e.apply(context.Background(), p, Options{Parallelism: 4, Progress: func(ev Event) {
			if ev.Phase == PhaseFailed {
				once.Do(func() { close(failedSeen) })
			}
		}})
		e.around.Store(nil)
		if err == nil {
			t.Fatal("want an error")
		}
		// Four started at once; one failed, the three others finished.
		if len(res.Applied) != 3 || len(res.Failed) != 1 || len(res.NotStarted) != 4 {
			t.Fatalf("result %+v", res)
		}
		if got := e.lock().Keys(); !reflect.DeepEqual(got, res.Applied) {
			t.Errorf("lockfile keys %v, want the applied %v", got, res.Applied)
		}
		if got := len(e.emu.JobIDs()); got != 3 {
			t.Errorf("%d jobs in the workspace, want 3", got)
		}
		e.converge(desired, false)
		e.assertConverged(desired, false)
	})
}

// Cancelling stops new actions; in-flight ones finish and are recorded, and
// the error matches context.Canceled.
func TestCancel(t *testing.T) {
	e := newEnv(t, emulator.Options{Latency: 20 * time.Millisecond})
	desired := jobs("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
	p := e.plan(desired, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := e.apply(ctx, p, Options{Parallelism: 2, Progress: func(ev Event) {
		if ev.Phase == PhaseDone {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(res.Applied) != 2 || len(res.Failed) != 0 || len(res.NotStarted) != 8 {
		t.Fatalf("result %+v", res)
	}
	if got := e.lock().Keys(); !reflect.DeepEqual(got, res.Applied) {
		t.Errorf("lockfile keys %v, want %v", got, res.Applied)
	}
	if _, err := os.Stat(e.lockPath + ".journal"); err == nil {
		t.Error("the journal should be committed after a cancel")
	}
	e.converge(desired, false)
	e.assertConverged(desired, false)
	if got := len(e.emu.JobIDs()); got != 10 {
		t.Errorf("%d jobs, want 10", got)
	}
}

// A request still running Grace after the cancel is abandoned; the create
// it carried may have happened, and the next plan adopts it instead of
// creating a duplicate.
func TestCancelAbandonsAfterGrace(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	desired := jobs("a")
	p := e.plan(desired, false)
	e.emu.SetLatency(300 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := e.apply(ctx, p, Options{Grace: 10 * time.Millisecond, Progress: func(ev Event) {
		if ev.Phase == PhaseStart {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || len(res.Failed) != 1 {
		t.Fatalf("err %v, result %+v", err, res)
	}
	e.handling.Wait() // let the server finish what it was doing
	e.emu.SetLatency(0)
	e.converge(desired, false)
	e.assertConverged(desired, false)
	if got := tagged(t, e.client); len(got["a"]) != 1 {
		t.Errorf("jobs tagged a: %v, want exactly one", got["a"])
	}
}

// A create whose answer is lost after the server committed it is adopted,
// not repeated; one lost before the commit is sent again.
func TestAmbiguousCreate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault emulator.Fault
		note  string
		// unanswered: the workspace gave no answer of its own, so the
		// create may still be running there; it is not sent again, the
		// action fails, and the next apply creates the job.
		unanswered bool
	}{
		{"dropped after commit", emulator.Fault{Method: "POST", Endpoint: "jobs/create", DropAfterCommit: true}, "adopted job", false},
		{"dropped before commit", emulator.Fault{Method: "POST", Endpoint: "jobs/create", DropBeforeCommit: true}, "", true},
		{"gateway timeout", emulator.Fault{Method: "POST", Endpoint: "jobs/create", Status: 504, Body: "<html><title>504 Gateway Time-out</title></html>"}, "", true},
		{"workspace 500", emulator.Fault{Method: "POST", Endpoint: "jobs/create", Status: 500, Body: `{"error_code":"INTERNAL_ERROR","message":"boom"}`}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Options{})
			desired := []*schema.Job{job("a"), job("b", "a")}
			p := e.plan(desired, false)
			e.emu.InjectFault(tc.fault)
			var notes []string
			opts := Options{Parallelism: 1, Settle: 50 * time.Millisecond, Progress: func(ev Event) {
				if ev.Note != "" {
					notes = append(notes, ev.Key+": "+ev.Note)
				}
			}}
			res, err := e.apply(context.Background(), p, opts)
			if tc.unanswered {
				if err == nil || !strings.Contains(err.Error(), "may still be running in the workspace, so it is not sent again") {
					t.Fatalf("apply: %v, want the create refused a second sending", err)
				}
				if n := len(e.emu.JobIDs()); n != 0 {
					t.Fatalf("%d jobs after the failed create, want 0 (it was sent once, and dropped)", n)
				}
				// The next apply creates it, once.
				p = e.plan(desired, false)
				res, err = e.apply(context.Background(), p, opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Applied) != 2 {
				t.Fatalf("result %+v", res)
			}
			if tc.note != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.note)) {
				t.Errorf("notes %q, want one with %q", notes, tc.note)
			}
			got := tagged(t, e.client)
			if len(got["a"]) != 1 || len(got["b"]) != 1 || len(e.emu.JobIDs()) != 2 {
				t.Fatalf("tagged jobs %v (all ids %v): want exactly one per key", got, e.emu.JobIDs())
			}
			if lf := e.lock(); lf.Jobs["a"].JobID != got["a"][0] {
				t.Errorf("lockfile a = %d, workspace %d", lf.Jobs["a"].JobID, got["a"][0])
			}
			e.assertConverged(desired, false)
		})
	}
}

// A create whose connection dies before the workspace has committed it,
// and which the workspace commits a moment later: the client sees no
// answer, the first look finds no job, and sending it again would make a
// second job. The applier waits for it to appear and adopts it instead.
// "A moment later" is pinned to the applier's first look, by no clock: the
// workspace answers that listing as it was, then commits the create before
// the answer leaves, so only a look after the settle time can find it.
func TestAmbiguousCreateCommittedLate(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	desired := []*schema.Job{job("a")}
	p := e.plan(desired, false)
	var mu sync.Mutex
	var dropped, committed bool
	var late func()
	f := aroundFunc(func(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/jobs/create") && !dropped:
			dropped = true
			body, _ := io.ReadAll(r.Body)
			hdr := r.Header.Clone()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			late = func() {
				rq := httptest.NewRequest(http.MethodPost, r.URL.String(), bytes.NewReader(body))
				rq.Header = hdr
				serve(httptest.NewRecorder(), rq)
			}
		case strings.HasSuffix(r.URL.Path, "/jobs/list") && late != nil && !committed:
			// The answer is buffered until the handler returns.
			serve(w, r)
			committed = true
			late()
		default:
			serve(w, r)
		}
	})
	e.around.Store(&f)
	var notes []string
	res, err := e.apply(context.Background(), p, Options{Parallelism: 1, Settle: 50 * time.Millisecond, Progress: func(ev Event) {
		if ev.Note != "" {
			notes = append(notes, ev.Note)
		}
	}})
	e.around.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !committed {
		t.Fatal("the applier never looked for the job after the dropped create")
	}
	if n := len(e.emu.JobIDs()); n != 1 {
		t.Fatalf("%d jobs, want 1: the create was sent again while the first was still running", n)
	}
	if len(res.Applied) != 1 || len(notes) != 1 || !strings.Contains(notes[0], "adopted job") {
		t.Errorf("result %+v, notes %q: want the job adopted", res.Applied, notes)
	}
	e.assertConverged(desired, false)
}

// A saved plan refuses a job that changed in the workspace since the plan,
// naming the job, its id and the field; an unchanged saved plan applies.
func TestSavedPlanStaleJob(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	desired := jobs("a", "b")
	e.converge(desired, false)
	ids := e.lock().Jobs

	desired[0].Settings["timeout_seconds"] = json.Number("600")
	desired[1].Settings["timeout_seconds"] = json.Number("600")
	p := savedPlan(t, e.plan(desired, false))
	if len(p.Actions) != 2 {
		t.Fatalf("plan %+v", p.Actions)
	}
	// Someone edits a in the UI after the plan was made.
	edit := fmt.Sprintf(`{"job_id":%d,"new_settings":{"max_concurrent_runs":5}}`, ids["a"].JobID)
	if err := e.client.UpdateJob(ctx, json.RawMessage(edit)); err != nil {
		t.Fatal(err)
	}
	res, err := e.apply(ctx, p, Options{CheckLive: true, Parallelism: 1})
	var se *StaleError
	if !errors.As(err, &se) {
		t.Fatalf("want a *StaleError, got %v", err)
	}
	want := fmt.Sprintf("job %d (a) changed in the workspace after the plan was made (max_concurrent_runs): run `jobsync plan` again", ids["a"].JobID)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %q lacks %q", err, want)
	}
	if len(res.Failed) != 1 || res.Failed[0].Key != "a" || !reflect.DeepEqual(res.NotStarted, []string{"b"}) {
		t.Errorf("result %+v", res)
	}
	// a was not written.
	j, _ := e.client.GetJob(ctx, ids["a"].JobID)
	if j.Settings["timeout_seconds"] != nil && fmt.Sprint(j.Settings["timeout_seconds"]) == "600" {
		t.Error("the stale job was written")
	}

	// A fresh saved plan of the same change applies.
	p = savedPlan(t, e.plan(desired, false))
	if _, err := e.apply(ctx, p, Options{CheckLive: true}); err != nil {
		t.Fatal(err)
	}
	e.assertConverged(desired, false)

	// A job deleted since the plan is refused too.
	desired[1].Settings["timeout_seconds"] = json.Number("700")
	p = savedPlan(t, e.plan(desired, false))
	if err := e.client.DeleteJob(ctx, ids["b"].JobID); err != nil {
		t.Fatal(err)
	}
	_, err = e.apply(ctx, p, Options{CheckLive: true})
	if !errors.As(err, &se) || !se.Deleted || !strings.Contains(err.Error(), "(b) was deleted in the workspace") {
		t.Errorf("got %v", err)
	}
}

// savedPlan round-trips p through the saved-plan format, as `plan -out`
// then `apply plan.json` do.
func savedPlan(t *testing.T, p *planner.Plan) *planner.Plan {
	t.Helper()
	var b bytes.Buffer
	if err := planner.WritePlan(&b, p); err != nil {
		t.Fatal(err)
	}
	out, err := planner.ReadPlan(&b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Permissions: a create carries them, a change of permissions alone is a
// PUT, and both are recorded.
func TestPermissions(t *testing.T) {
	e := newEnv(t, emulator.Options{Directory: emulator.Directory{Groups: []emulator.Group{{DisplayName: "analysts"}, {DisplayName: "ops"}}}})
	a := job("a")
	a.Permissions = []schema.Permission{{GroupName: "analysts", PermissionLevel: "CAN_VIEW"}}
	desired := []*schema.Job{a}
	e.converge(desired, false)
	e.assertConverged(desired, false)

	a.Permissions = append(a.Permissions, schema.Permission{GroupName: "ops", PermissionLevel: "CAN_MANAGE_RUN"})
	p := e.plan(desired, false)
	if len(p.Actions) != 1 || p.Actions[0].Op != planner.OpPermissions {
		t.Fatalf("plan %+v", p.Actions)
	}
	e.emu.ResetRequests()
	if _, err := e.apply(context.Background(), p, Options{}); err != nil {
		t.Fatal(err)
	}
	puts := requestsTo(e.emu, "PUT", "permissions/jobs")
	if len(puts) != 1 || !strings.Contains(string(puts[0].Body), `"ops"`) {
		t.Fatalf("PUTs %v", puts)
	}
	if got := fmt.Sprint(e.lock().Jobs["a"].Permissions); !strings.Contains(got, "ops") {
		t.Errorf("lockfile permissions %s", got)
	}
	e.assertConverged(desired, false)

	// Permissions changed together with settings: one update, one PUT.
	a.Settings["timeout_seconds"] = json.Number("60")
	a.Permissions = a.Permissions[:1]
	e.emu.ResetRequests()
	e.converge(desired, false)
	if got := len(requestsTo(e.emu, "PUT", "permissions/jobs")); got != 1 {
		t.Errorf("%d permission PUTs, want 1", got)
	}
	e.assertConverged(desired, false)
}

// A failed permissions PUT after a successful job write still records the
// write, so the next plan only retries the permissions.
func TestPermissionsFailureRecordsWrite(t *testing.T) {
	e := newEnv(t, emulator.Options{Directory: emulator.Directory{Groups: []emulator.Group{{DisplayName: "ops"}}}})
	a := job("a")
	desired := []*schema.Job{a}
	e.converge(desired, false)
	a.Settings["timeout_seconds"] = json.Number("60")
	a.Permissions = []schema.Permission{{GroupName: "ops", PermissionLevel: "CAN_MANAGE_RUN"}}
	p := e.plan(desired, false)
	e.emu.InjectFault(emulator.Fault{Method: "PUT", Endpoint: "permissions/jobs", Status: 400,
		ErrorCode: "INVALID_PARAMETER_VALUE", Message: "Principal: GroupName(ops) does not exist"})
	res, err := e.apply(context.Background(), p, Options{})
	if err == nil || len(res.Failed) != 1 || !strings.Contains(err.Error(), "setting the permissions") {
		t.Fatalf("err %v result %+v", err, res)
	}
	rec := e.lock().Jobs["a"]
	recorded, err := rec.AppliedSettings()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(recorded["timeout_seconds"]) != "60" || rec.Permissions != nil {
		t.Errorf("recorded %+v", rec)
	}
	p = e.plan(desired, false)
	if len(p.Actions) != 1 || p.Actions[0].Op != planner.OpPermissions {
		t.Fatalf("next plan %+v", p.Actions)
	}
	e.converge(desired, false)
	e.assertConverged(desired, false)
}

// Deletes run last, and deleting a job that is already gone counts as done.
func TestDeletes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	e.converge(jobs("a", "b", "c"), false)
	ids := e.lock().Jobs

	desired := jobs("c", "d")
	p := e.plan(desired, true)
	if n := p.Counts(); n[planner.OpDelete] != 2 || n[planner.OpCreate] != 1 {
		t.Fatalf("plan %v", n)
	}
	// b disappears between plan and apply.
	if err := e.client.DeleteJob(ctx, ids["b"].JobID); err != nil {
		t.Fatal(err)
	}
	e.emu.ResetRequests()
	res, err := e.apply(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 3 {
		t.Errorf("result %+v", res)
	}
	// The create came before both deletes.
	var seq []string
	for _, r := range e.emu.Requests() {
		if r.Method == "POST" {
			seq = append(seq, r.Path[strings.LastIndex(r.Path, "/")+1:])
		}
	}
	if len(seq) != 3 || seq[0] != "create" {
		t.Errorf("write order %v, want create first", seq)
	}
	if got := e.lock().Keys(); !reflect.DeepEqual(got, []string{"c", "d"}) {
		t.Errorf("lockfile keys %v", got)
	}
	e.assertConverged(desired, true)

	// With CheckLive, a job already gone is fine for a delete too.
	p = e.plan(jobs("d"), true)
	if err := e.client.DeleteJob(ctx, e.lock().Jobs["c"].JobID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.apply(ctx, savedPlan(t, p), Options{CheckLive: true}); err != nil {
		t.Fatal(err)
	}
	e.assertConverged(jobs("d"), true)
}

// A lost lockfile is rebuilt from the ownership tags: the plan records the
// adopted jobs and Apply writes them, creating nothing.
func TestLostLockfileRecords(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	desired := jobs("a", "b")
	e.converge(desired, false)
	before := e.lock().Jobs
	if err := os.Remove(e.lockPath); err != nil {
		t.Fatal(err)
	}
	p := e.plan(desired, false)
	if len(p.Actions) != 0 || len(p.Records) != 2 {
		t.Fatalf("plan actions %v records %v", p.Actions, p.Records)
	}
	res, err := e.apply(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Recorded, []string{"a", "b"}) {
		t.Errorf("recorded %v", res.Recorded)
	}
	after := e.lock().Jobs
	for k, j := range before {
		if after[k].JobID != j.JobID {
			t.Errorf("%s: %d, was %d", k, after[k].JobID, j.JobID)
		}
	}
	if len(e.emu.JobIDs()) != 2 {
		t.Errorf("jobs %v", e.emu.JobIDs())
	}
	e.assertConverged(desired, false)
}

// A lockfile of another workspace is refused before anything happens.
func TestOtherWorkspace(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	st := e.store()
	st.Init("https://other.cloud.databricks.com", testProject)
	if err := st.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := &planner.Plan{Workspace: e.client.Host(), Project: testProject}
	_, err := e.apply(context.Background(), p, Options{})
	var we *state.WorkspaceError
	if !errors.As(err, &we) {
		t.Errorf("got %v", err)
	}
	// Another project's lockfile is refused too.
	p = &planner.Plan{Workspace: "https://other.cloud.databricks.com", Project: "someone/else"}
	if _, err := e.apply(context.Background(), p, Options{}); err == nil || !strings.Contains(err.Error(), `belongs to project "proj/test"`) {
		t.Errorf("got %v", err)
	}
}

// Unusable plans are refused before any request.
func TestInvalidPlans(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	body := json.RawMessage(`{"name":"x"}`)
	for name, tc := range map[string]struct {
		actions []planner.Action
		want    string
	}{
		"cycle": {[]planner.Action{
			{Op: planner.OpCreate, Key: "a", Needs: []string{"b"}, Request: body},
			{Op: planner.OpCreate, Key: "b", Needs: []string{"c"}, Request: body},
			{Op: planner.OpCreate, Key: "c", Needs: []string{"a"}, Request: body},
		}, "cycle (a → b → c → a)"},
		"no key":       {[]planner.Action{{Op: planner.OpCreate, Request: body}}, "has no key"},
		"needs delete": {[]planner.Action{{Op: planner.OpDelete, Key: "a", JobID: 1}, {Op: planner.OpUpdate, Key: "a", JobID: 1}}, "which the plan deletes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.apply(context.Background(), &planner.Plan{Project: testProject, Actions: tc.actions}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	if n := e.emu.RequestCount(); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}

// An update of a job deleted outside jobsync (without a saved plan) fails
// with a message that says what to do.
func TestUpdateOfMissingJob(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{})
	desired := jobs("a")
	e.converge(desired, false)
	desired[0].Settings["timeout_seconds"] = json.Number("5")
	p := e.plan(desired, false)
	if err := e.client.DeleteJob(ctx, e.lock().Jobs["a"].JobID); err != nil {
		t.Fatal(err)
	}
	_, err := e.apply(ctx, p, Options{})
	if err == nil || !strings.Contains(err.Error(), "no longer exists in the workspace: run `jobsync plan` again") {
		t.Errorf("got %v", err)
	}
	e.converge(desired, false)
	e.assertConverged(desired, false)
}

// A saved plan's create is refused when a job with the key's tag appeared
// since the plan.
func TestSavedPlanCreateAfterConcurrentCreate(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	desired := jobs("a")
	p := savedPlan(t, e.plan(desired, false))
	if _, err := e.client.CreateJob(context.Background(), p.Actions[0].Request); err != nil {
		t.Fatal(err)
	}
	_, err := e.apply(context.Background(), p, Options{CheckLive: true})
	if err == nil || !strings.Contains(err.Error(), "already carries the ownership tag of a") {
		t.Errorf("got %v", err)
	}
	if n := len(e.emu.JobIDs()); n != 1 {
		t.Errorf("%d jobs", n)
	}
}

// The job created since the plan may carry another name (another checkout
// applied a later version of the YAML, which renamed it): the key's tag
// finds it all the same, and the saved plan's create is refused rather
// than make a second job with that tag.
func TestSavedPlanCreateAfterConcurrentCreateUnderOtherName(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	desired := jobs("a", "b")
	p := savedPlan(t, e.plan(desired, false))
	other := jobs("a")
	other[0].Settings["name"] = "test a, renamed in a later commit"
	// The other checkout applies with its own lockfile.
	ctx := context.Background()
	otherLock := filepath.Join(t.TempDir(), "jobsync.lock.json")
	op, err := buildPlan(ctx, e.client, otherLock, other, false)
	if err != nil {
		t.Fatal(err)
	}
	ost, err := state.Open(ctx, otherLock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, op, e.client, ost, Options{}); err != nil {
		t.Fatal(err)
	}
	_, err = Apply(context.Background(), p, e.client, e.store(), Options{CheckLive: true, Parallelism: 1})
	if err == nil || !strings.Contains(err.Error(), "already carries the ownership tag of a") {
		t.Errorf("got %v", err)
	}
	if got := tagged(t, e.client); len(got["a"]) != 1 {
		t.Errorf("jobs tagged a: %v", got["a"])
	}
}
