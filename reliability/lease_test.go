//go:build unix

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobsync/jobsync/bench"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/lease"
	"github.com/jobsync/jobsync/planner"
)

// The workspace lease between CI runners: each "runner" is a checkout of
// its own (its own directory, YAML version and lockfile) and its own
// principal (token), so that the emulator's request log says whose every
// request is. They share the lease through the target's workspace.root_path,
// as two runners with different identities must (README).

const (
	leaseJobs  = 24
	leaseScope = project + "/prod"
	leaseRoot  = "/Workspace/Shared/jobsync/" + project
)

// runner is one checkout and the identity it applies with.
type runner struct {
	name, dir, token, principal string
}

// leaseWorld is a workspace that knows n runner principals, each with a
// token, and serves every request with a little latency so that applies
// take long enough to overlap if nothing kept them apart.
func leaseWorld(t *testing.T, n int) (*world, []runner) {
	var d emulator.Directory
	d.Tokens = map[string]string{}
	var rs []runner
	for i := range n {
		name := fmt.Sprintf("runner-%c", 'a'+i)
		r := runner{name: name, token: "dapi-" + name + "-0123456789", principal: name + "@example.com"}
		// Workspace admins, as deploying principals usually are: a runner
		// must see and manage the jobs another runner created (listings
		// are filtered by job permissions), or it would create its own.
		d.Users = append(d.Users, emulator.User{UserName: r.principal, Groups: []string{"admins"}})
		d.Tokens[r.token] = r.principal
		rs = append(rs, r)
	}
	w := newWorld(t, worldOptions{jobs: 1, emulator: emulator.Options{Directory: d, Latency: 3 * time.Millisecond}})
	for i := range rs {
		rs[i].dir = checkout(t, rs[i].name, i, n)
	}
	return w, rs
}

// checkout writes a project of leaseJobs jobs whose version differs from
// the other checkouts': jobs i with i%n == k carry bench's edited variant.
func checkout(t *testing.T, name string, k, n int) string {
	dir := filepath.Join(t.TempDir(), name)
	edited := map[int]bool{}
	for i := range leaseJobs {
		if i%n == k {
			edited[i] = true
		}
	}
	if _, err := (bench.Workload{Jobs: leaseJobs, Tasks: 3, Edited: edited}).WriteYAML(filepath.Join(dir, "jobs")); err != nil {
		t.Fatal(err)
	}
	yaml := "project: " + project + "\ntargets:\n  prod:\n    default: true\n    workspace:\n      root_path: " + leaseRoot + "\n"
	must(t, os.WriteFile(filepath.Join(dir, "jobsync.yaml"), []byte(yaml), 0o644))
	return dir
}

func (w *world) runnerCmd(ctx context.Context, t *testing.T, r runner, args ...string) *exec.Cmd {
	return cli{args: args, dir: r.dir, env: []string{"DATABRICKS_HOST=" + w.srv.URL, "DATABRICKS_TOKEN=" + r.token}}.command(ctx, t)
}

// isJobsAPI tells the requests of the Jobs and permissions APIs: the reads
// a plan is made of and the writes of the apply.
func isJobsAPI(r emulator.Request) bool {
	return strings.Contains(r.Path, "/jobs/") || strings.HasPrefix(r.Path, "/api/2.0/permissions/")
}

// tenure is the span of one principal's Jobs API requests in the log: from
// the first read of its plan to its last write.
type tenure struct {
	principal  string
	first, end time.Time
	writes     int
}

// tenures are the principals' spans, in the order they began.
func tenures(log []emulator.Request) []tenure {
	by := map[string]*tenure{}
	for _, r := range log {
		if !isJobsAPI(r) {
			continue
		}
		tn := by[r.Principal]
		if tn == nil {
			tn = &tenure{principal: r.Principal, first: r.Start, end: r.End}
			by[r.Principal] = tn
		}
		if r.Start.Before(tn.first) {
			tn.first = r.Start
		}
		if r.End.After(tn.end) {
			tn.end = r.End
		}
		if r.Method != "GET" {
			tn.writes++
		}
	}
	var out []tenure
	for _, tn := range by {
		out = append(out, *tn)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first.Before(out[j].first) })
	return out
}

// checkNoOverlap checks, from the emulator's request log alone, that no two
// principals used the Jobs API at the same time: each one's last write
// ended before the next one's first read (of the plan it then applied)
// began. So no two writes overlapped, and no plan was made from a
// workspace another run was still changing. It returns the order.
func checkNoOverlap(t *testing.T, w *world, want int) []tenure {
	t.Helper()
	w.gate.settle()
	tns := tenures(w.emu.Requests())
	if len(tns) != want {
		t.Errorf("%d principals used the Jobs API, want %d: %+v", len(tns), want, tns)
	}
	for i := 1; i < len(tns); i++ {
		if !tns[i-1].end.Before(tns[i].first) {
			t.Errorf("overlap: %s wrote until %s, %s began reading at %s",
				tns[i-1].principal, tns[i-1].end.Format(time.StampMicro), tns[i].principal, tns[i].first.Format(time.StampMicro))
		}
	}
	return tns
}

// checkOneJobPerKey: every key has exactly one job, nothing else carries
// the scope's tag.
func checkOneJobPerKey(t *testing.T, w *world) {
	t.Helper()
	jobs, err := w.audit.ListJobs(w.ctx, jobsapi.ListJobsOptions{})
	must(t, err)
	owned := map[string][]int64{}
	for _, j := range jobs {
		if k, ok := planner.OwnedKey(leaseScope, j.Settings); ok {
			owned[k] = append(owned[k], j.JobID)
		}
	}
	if len(owned) != leaseJobs {
		t.Errorf("%d keys carry the tag, want %d", len(owned), leaseJobs)
	}
	for k, ids := range owned {
		if len(ids) != 1 {
			t.Errorf("duplicate: %s has jobs %v", k, ids)
		}
	}
}

// applyConcurrently starts `jobsync apply --auto-approve --lock-timeout 2m`
// in every checkout at once and waits for all of them. Processes start
// unevenly on a loaded machine, so that one could finish before the next
// begins; to make the runs meet for sure, the first job write (of whoever
// holds the lease) is held back until every runner has tried to take the
// lease.
func applyConcurrently(t *testing.T, w *world, rs []runner) []cliResult {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	principal := map[string]string{}
	for _, r := range rs {
		principal["Bearer "+r.token] = r.principal
	}
	var mu sync.Mutex
	tried := map[string]bool{}
	allTried := make(chan struct{})
	var firstWrite sync.Once
	observe := func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/state/"+lease.FileName) && r.Method == http.MethodPost {
			mu.Lock()
			if p := principal[r.Header.Get("Authorization")]; p != "" && !tried[p] {
				tried[p] = true
				if len(tried) == len(rs) {
					close(allTried)
				}
			}
			mu.Unlock()
			return
		}
		if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/jobs/") {
			firstWrite.Do(func() {
				select {
				case <-allTried:
				case <-time.After(time.Minute):
					t.Error("not every runner tried to take the lease within a minute")
				}
			})
		}
	}
	w.gate.observe.Store(&observe)
	defer w.gate.observe.Store(nil)
	out := make([]cliResult, len(rs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range rs {
		cmd := w.runnerCmd(ctx, t, r, "apply", "--auto-approve", "--lock-timeout", "2m")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := cmd.Run()
			out[i] = cliResult{stdout: stdout.String(), stderr: stderr.String(), code: exitCode(t, err)}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// planEmpty checks that a plan from r's checkout has nothing to do.
func planEmpty(t *testing.T, w *world, r runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := w.runnerCmd(ctx, t, r, "plan", "--detailed-exitcode")
	out, err := cmd.CombinedOutput()
	if code := exitCode(t, err); code != 0 {
		t.Errorf("plan of %s after it applied: exit %d\n%s", r.name, code, out)
	}
}

func concurrentApplies(t *testing.T, n int) {
	jobsyncBin(t)
	w, rs := leaseWorld(t, n)
	res := applyConcurrently(t, w, rs)
	waited := 0
	for i, r := range res {
		if r.code != 0 || !strings.Contains(r.stdout, "Apply complete") || !strings.Contains(r.stdout, "0 failed, 0 not started") {
			t.Fatalf("%s: %s", rs[i].name, r)
		}
		if strings.Contains(r.stderr, "Waiting up to") {
			waited++
		}
	}
	tns := checkNoOverlap(t, w, n)
	checkOneJobPerKey(t, w)
	// The last to write has the workspace as its YAML says; each of the
	// others converged at its end (its apply completed, nothing failed or
	// left), and was then changed by the next.
	if len(tns) == n {
		for _, r := range rs {
			if r.principal == tns[n-1].principal {
				planEmpty(t, w, r)
			}
		}
	}
	var order []string
	for _, tn := range tns {
		order = append(order, fmt.Sprintf("%s (%d writes)", strings.TrimSuffix(tn.principal, "@example.com"), tn.writes))
	}
	t.Logf("write order: %s; %d of %d runs waited for the lease", strings.Join(order, " → "), waited, n)
	// Every runner but the first tried while the first held the lease in
	// the middle of its apply.
	if waited != n-1 {
		t.Errorf("%d of %d runs waited for the lease, want %d", waited, n, n-1)
	}
	fileRow(t, row{Fault: fmt.Sprintf("%d concurrent applies from %d checkouts (own YAML version, lockfile and principal each; one root_path) on one workspace", n, n),
		Behaviour: fmt.Sprintf("one holds the workspace lease, the others wait (--lock-timeout 2m) and go in turn; the emulator's request log shows the %d principals' Jobs API use (plan reads to last write) in disjoint spans, one job per key, the last checkout's plan empty", n),
		Sees:      "Waiting up to 2m0s for the workspace lease ..., held by ...", Injected: n})
}

func TestTwoConcurrentApplies(t *testing.T) {
	t.Parallel()
	concurrentApplies(t, 2)
}

func TestFiveConcurrentApplies(t *testing.T) {
	t.Parallel()
	concurrentApplies(t, 5)
}

// TestCrashedHolderLeaseExpires: a runner is SIGKILLed mid-apply on another
// machine (its lease is made to look so: the same-machine rule would free it
// at once), with a 2 s lease. The next runner waits for the expiry, takes
// the lease over with a notice, and converges.
func TestCrashedHolderLeaseExpires(t *testing.T) {
	t.Parallel()
	jobsyncBin(t)
	w, rs := leaseWorld(t, 2)
	a, b := rs[0], rs[1]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := lease.Path(leaseRoot)

	killed := make(chan struct{})
	cmd := w.runnerCmd(ctx, t, a, "apply", "--auto-approve")
	cmd.Env = append(cmd.Env, "JOBSYNC_LEASE_TTL=3s")
	var proc *os.Process
	var mu sync.Mutex
	w.onCreate(5, func() {
		mu.Lock()
		defer mu.Unlock()
		_ = proc.Kill()
		close(killed)
	})
	var first bytes.Buffer
	cmd.Stdout, cmd.Stderr = &first, &first
	mu.Lock()
	must(t, cmd.Start())
	proc = cmd.Process
	mu.Unlock()
	werr := cmd.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the first runner finished before it was killed (%v):\n%s", werr, first.String())
	}
	w.gate.observe.Store(nil)
	w.gate.settle()
	h, err := lease.Read(w.ctx, w.audit, path)
	if err != nil {
		t.Fatalf("the killed runner's lease: %v", err)
	}
	if h.Principal != a.principal || h.PID != proc.Pid {
		t.Fatalf("lease left behind: %+v", h)
	}
	// As if it had run elsewhere.
	h.Host, h.Machine = "ci-runner-elsewhere", ""
	data, _ := json.Marshal(h)
	must(t, w.audit.ImportFile(w.ctx, path, data, true))

	started := time.Now()
	out, err := w.runnerCmd(ctx, t, b, "apply", "--auto-approve", "--lock-timeout", "1m").CombinedOutput()
	took := time.Since(started)
	if code := exitCode(t, err); code != 0 {
		t.Fatalf("the next runner: exit %d\n%s", code, out)
	}
	for _, want := range []string{"Waiting up to 1m0s for the workspace lease " + path + ", held by " + a.principal,
		"Took over the workspace lease " + path + " of " + a.principal, "it expired at"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left := time.Until(h.Expires); took < left {
		t.Errorf("took over after %v, before the lease expired (%v after the start)", took, left)
	}
	t.Logf("the lease of the killed runner was taken over after %v (it expired %v after the next runner started)", took.Round(time.Millisecond), time.Until(h.Expires).Round(time.Millisecond)+took)
	checkOneJobPerKey(t, w)
	planEmpty(t, w, b)
	if _, err := lease.Read(w.ctx, w.audit, path); !jobsapi.IsNotFound(err) {
		t.Errorf("lease left after the clean apply: %v", err)
	}
	fileRow(t, row{Fault: "a runner SIGKILLed mid-apply on another machine, holding a 3 s workspace lease (JOBSYNC_LEASE_TTL)",
		Behaviour: "the next runner waits for the lease to expire (--lock-timeout 1m), takes it over with a notice on stderr, adopts the killed run's jobs by tag and converges",
		Sees:      "Took over the workspace lease ... of " + a.principal + " (pid ...), running \"jobsync apply\" for " + leaseScope + ": it expired at ... (its holder stopped renewing it: it crashed or was killed).",
		Injected:  1})
}
