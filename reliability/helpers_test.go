package reliability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/bench"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

const project = "reliability"

// world is a workspace under test: the emulator, served on loopback behind
// a gate that can misbehave in ways the emulator's own knobs do not cover,
// a client of it with test-sized backoffs, a lockfile and the desired jobs
// (the repository's examples plus generated three-task jobs).
type world struct {
	t       testing.TB
	ctx     context.Context
	emu     *emulator.Server
	gate    *gate
	srv     *httptest.Server
	client  *jobsapi.Client
	audit   *jobsapi.Client // straight to the emulator, for the invariants
	dir     string
	lock    string
	desired []*schema.Job
}

type worldOptions struct {
	jobs     int  // generated 3-task jobs
	examples bool // add examples/jobs (permissions, references, a 120-task job)
	client   jobsapi.Options
	emulator emulator.Options
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	jobsDir := filepath.Join(dir, "jobs")
	if _, err := (bench.Workload{Jobs: o.jobs, Tasks: 3}).WriteYAML(jobsDir); err != nil {
		t.Fatal(err)
	}
	if o.examples {
		copyExamples(t, jobsDir)
	}
	cfg, err := schema.Load(ctx, []string{jobsDir})
	if err != nil {
		t.Fatal(err)
	}
	eo := o.emulator
	if o.examples {
		// The workspace knows the principals the examples grant to.
		d, err := emulator.ReadDirectory("../examples/jobs/jobsync.principals.json")
		if err != nil {
			t.Fatal(err)
		}
		eo.Directory = d
	}
	if eo.JobQuota == 0 {
		eo.JobQuota = -1
	}
	if eo.CreatesPerHour == 0 {
		eo.CreatesPerHour = -1
	}
	emu, err := emulator.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{next: emu}
	srv := httptest.NewServer(g)
	direct := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		direct.Close()
		_ = emu.Close()
	})
	co := o.client
	if co.MinBackoff == 0 {
		co.MinBackoff = time.Millisecond
	}
	if co.MaxBackoff == 0 {
		co.MaxBackoff = 20 * time.Millisecond
	}
	if co.RetryTimeout == 0 {
		co.RetryTimeout = 10 * time.Second
	}
	w := &world{t: t, ctx: ctx, emu: emu, gate: g, srv: srv, dir: dir, lock: filepath.Join(dir, "jobsync.lock.json"), desired: cfg.Jobs}
	w.client = newClient(t, srv.URL, co)
	w.audit = newClient(t, direct.URL, jobsapi.Options{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	return w
}

func newClient(t testing.TB, host string, o jobsapi.Options) *jobsapi.Client {
	t.Helper()
	c, err := jobsapi.New(jobsapi.Config{Host: host, Token: "dapi-reliability", AuthType: jobsapi.AuthTypePAT}, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func copyExamples(t testing.TB, dst string) {
	t.Helper()
	files, err := filepath.Glob("../examples/jobs/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples under ../examples/jobs: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, "example_"+filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) input(lock *state.File, prune bool) planner.Input {
	return planner.Input{Desired: w.desired, Lock: lock, Project: project, Workspace: w.client.Host(), Prune: prune,
		Now: time.Unix(1_700_000_000, 0).UTC()}
}

// plan plans the desired jobs against the workspace, as `jobsync plan` does.
func (w *world) plan() (*planner.Plan, error) {
	st, err := state.Open(w.ctx, w.lock)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	p, _, err := refresh.Plan(w.ctx, w.client, w.input(st.File(), true), refresh.Options{})
	return p, err
}

// apply plans and applies, as `jobsync apply --auto-approve --prune`
// does. A planning error comes back with a nil plan.
func (w *world) apply(o applier.Options) (*planner.Plan, *applier.Result, error) {
	unlock, err := state.Lock(w.ctx, w.lock, 0)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	p, err := w.plan()
	if err != nil {
		return nil, nil, err
	}
	st, err := state.Open(w.ctx, w.lock)
	if err != nil {
		return p, nil, err
	}
	defer st.Close()
	if st.File() == nil {
		st.Init(w.client.Host(), project)
	}
	res, err := applier.Apply(w.ctx, p, w.client, st, o)
	return p, res, err
}

// mustApply applies and fails the test on any error.
func (w *world) mustApply() *applier.Result {
	w.t.Helper()
	_, res, err := w.apply(applier.Options{})
	if err != nil {
		w.t.Fatalf("apply: %v", err)
	}
	return res
}

// converge re-applies, with every fault cleared, until the plan is empty,
// and returns how many applies that took. An apply after a fault must
// finish the job in one round; more means the fault left something behind.
func (w *world) converge(max int) int {
	w.t.Helper()
	w.gate.clear()
	for round := 0; round <= max; round++ {
		p, err := w.plan()
		if err != nil {
			w.t.Fatalf("re-plan after the fault: %v", err)
		}
		if p.Empty() && len(p.Records) == 0 {
			w.checkConverged()
			return round
		}
		if round == max {
			break
		}
		if _, res, err := w.apply(applier.Options{}); err != nil {
			w.t.Fatalf("clean re-apply %d: %v (result %+v)", round+1, err, res)
		}
	}
	w.t.Fatalf("not converged after %d clean applies", max)
	return max
}

// owned lists the workspace's jobs by the key of the ownership tag they
// carry.
func (w *world) owned() map[string][]int64 {
	w.t.Helper()
	jobs, err := w.audit.ListJobs(w.ctx, jobsapi.ListJobsOptions{})
	if err != nil {
		w.t.Fatalf("auditing the workspace: %v", err)
	}
	out := map[string][]int64{}
	for _, j := range jobs {
		if k, ok := planner.OwnedKey(project, j.Settings); ok {
			out[k] = append(out[k], j.JobID)
		}
	}
	return out
}

func (w *world) lockfile() *state.File {
	w.t.Helper()
	st, err := state.Open(w.ctx, w.lock)
	if err != nil {
		w.t.Fatalf("reading the lockfile: %v", err)
	}
	defer st.Close()
	return st.File()
}

// checkAfterFault checks what must hold right after a faulty apply,
// before anything repairs it: no job exists twice, and every action the
// applier reported as done is in the lockfile (a create or update with the
// job the workspace has under that key, a delete as gone).
func (w *world) checkAfterFault(p *planner.Plan, res *applier.Result) {
	w.t.Helper()
	owned := w.owned()
	for k, ids := range owned {
		if len(ids) > 1 {
			w.t.Errorf("duplicate: key %s has %d jobs %v", k, len(ids), ids)
		}
	}
	if p == nil || res == nil {
		return
	}
	lock := w.lockfile()
	ops := map[string]planner.Op{}
	for _, a := range p.Actions {
		ops[a.Key] = a.Op
	}
	for _, k := range res.Applied {
		var rec state.Job
		var ok bool
		if lock != nil {
			rec, ok = lock.Jobs[k]
		}
		switch ops[k] {
		case planner.OpDelete:
			if ok {
				w.t.Errorf("lost: delete of %s was applied but the lockfile still names job %d", k, rec.JobID)
			}
		default:
			if !ok {
				w.t.Errorf("lost: %s %s was applied but is not in the lockfile", ops[k], k)
				continue
			}
			if ids := owned[k]; len(ids) != 1 || ids[0] != rec.JobID {
				w.t.Errorf("lockfile names job %d for %s, the workspace has %v", rec.JobID, k, ids)
			}
		}
	}
}

// checkConverged checks the end state: every desired key has exactly one
// job, carrying its tag, which the lockfile names; nothing else carries
// our tag; no journal is left over.
func (w *world) checkConverged() {
	w.t.Helper()
	owned := w.owned()
	lock := w.lockfile()
	if lock == nil {
		w.t.Fatal("no lockfile after a converged apply")
	}
	want := map[string]bool{}
	for _, j := range w.desired {
		want[j.Key] = true
		ids := owned[j.Key]
		switch {
		case len(ids) == 0:
			w.t.Errorf("lost: %s has no job in the workspace", j.Key)
		case len(ids) > 1:
			w.t.Errorf("duplicate: %s has jobs %v", j.Key, ids)
		case lock.Jobs[j.Key].JobID != ids[0]:
			w.t.Errorf("lockfile names job %d for %s, the workspace has %d", lock.Jobs[j.Key].JobID, j.Key, ids[0])
		}
	}
	for k, ids := range owned {
		if !want[k] {
			w.t.Errorf("leftover: jobs %v carry the tag of %s, which is not configured", ids, k)
		}
	}
	for k := range lock.Jobs {
		if !want[k] {
			w.t.Errorf("leftover: the lockfile still names %s", k)
		}
	}
	if _, err := os.Stat(w.lock + ".journal"); !errors.Is(err, os.ErrNotExist) {
		w.t.Errorf("the journal is left over after a clean apply: %v", err)
	}
}

// count counts the emulator's logged requests that match.
func (w *world) count(f func(emulator.Request) bool) int {
	n := 0
	for _, r := range w.emu.Requests() {
		if f(r) {
			n++
		}
	}
	return n
}

func endpoint(r emulator.Request) string {
	p := strings.TrimPrefix(r.Path, "/api/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// status matches requests to endpoint answered with status (0: dropped).
func status(ep string, code int) func(emulator.Request) bool {
	return func(r emulator.Request) bool { return endpoint(r) == ep && r.Status == code }
}

// jobCount is the number of jobs in the workspace.
func (w *world) jobCount() int { return len(w.emu.JobIDs()) }

// gate sits in front of the emulator and adds misbehaviour its knobs do
// not have: faults that last until cleared (a revoked token, a workspace
// that throttles forever), and answers spoiled after the write was done
// (cut off, replaced by a gateway's HTML page, or later than the client
// waits).
type gate struct {
	next http.Handler
	// observe, when set, sees every request before it is served (tests
	// use it to act at a chosen moment). It is atomic because server
	// goroutines of earlier keep-alive connections read it.
	observe atomic.Pointer[func(*http.Request)]

	mu    sync.Mutex
	rules []*rule

	hits atomic.Int64 // requests a rule applied to

	// inflight counts requests being served, so that a test can wait for
	// the requests a killed client left behind (settle).
	inflight atomic.Int64
}

// settle returns once no request has been served for a while: the requests
// a killed client had sent are all answered (a WaitGroup would not do: the
// server may still be reading one when the wait begins).
func (g *gate) settle() {
	for quiet := 0; quiet < 3; {
		time.Sleep(10 * time.Millisecond)
		if g.inflight.Load() == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// rule is one misbehaviour of the gate.
type rule struct {
	endpoint string // path suffix such as "jobs/create"; "" matches every request
	count    int    // requests it applies to; < 0 until cleared
	status   int    // answer with this status and body instead of asking the emulator
	body     string
	// Spoil the emulator's answer after the write was done: cut keeps
	// only the first half of its body; html replaces it with a gateway's
	// HTML page (status 200); late delays it.
	cut, html bool
	late      time.Duration
}

func (g *gate) add(r rule) {
	g.mu.Lock()
	g.rules = append(g.rules, &r)
	g.mu.Unlock()
}

// deny answers every request with code (401 or 403) until cleared.
func (g *gate) deny(code int) {
	body := `{"error_code":"UNAUTHENTICATED","message":"Invalid access token."}`
	if code == http.StatusForbidden {
		body = `{"error_code":"PERMISSION_DENIED","message":"User does not have permission to manage jobs."}`
	}
	g.add(rule{count: -1, status: code, body: body})
}

func (g *gate) clear() {
	g.mu.Lock()
	g.rules = nil
	g.mu.Unlock()
}

func (g *gate) match(path string) *rule {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, r := range g.rules {
		if r.endpoint != "" && !strings.HasSuffix(path, "/"+r.endpoint) {
			continue
		}
		if r.count > 0 {
			r.count--
			if r.count == 0 {
				g.rules = append(g.rules[:i], g.rules[i+1:]...)
			}
		}
		c := *r
		return &c
	}
	return nil
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.inflight.Add(1)
	defer g.inflight.Add(-1)
	if f := g.observe.Load(); f != nil {
		(*f)(r)
	}
	rl := g.match(r.URL.Path)
	if rl == nil {
		g.next.ServeHTTP(w, r)
		return
	}
	g.hits.Add(1)
	if rl.status != 0 {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(rl.body, "<") {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(rl.status)
		_, _ = io.WriteString(w, rl.body)
		return
	}
	rec := httptest.NewRecorder()
	if rl.late > 0 {
		// The workspace does the write whether or not the client is
		// still waiting: that is the fault. (The emulator, like a
		// server abandoning work for a closed connection, would drop a
		// request whose client already gave up.)
		g.next.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
	} else {
		g.next.ServeHTTP(rec, r)
	}
	if rl.late > 0 {
		select {
		case <-time.After(rl.late):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case rl.html:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	case rl.cut:
		body := rec.Body.Bytes()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
	default:
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// firstErr is the error a user is shown for a failed apply: the apply's
// own error, or its first failed action.
func firstErr(res *applier.Result, err error) string {
	if err != nil {
		return err.Error()
	}
	if res != nil && len(res.Failed) > 0 {
		return res.Failed[0].Err.Error()
	}
	return ""
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprint
