package reliability

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
)

// The fault matrix, API side. Each test injects one kind of fault into
// the emulator (or the gate in front of it) during a plan or an apply of
// the examples plus 24 generated jobs, then checks the invariants: right
// after the fault nothing is duplicated and everything reported applied is
// in the lockfile; after a clean re-apply the workspace, the lockfile and
// the configuration agree and the plan is empty.

const faultJobs = 24

func newFaultWorld(t *testing.T) *world {
	return newWorld(t, worldOptions{jobs: faultJobs, examples: true})
}

// applied returns a world whose workspace already matches the YAML.
func applied(t *testing.T) *world {
	w := newFaultWorld(t)
	w.mustApply()
	w.emu.ResetRequests()
	return w
}

// change edits the desired configuration so that the next plan has one
// action of op on key.
func (w *world) change(op planner.Op, key string) {
	w.t.Helper()
	for i, j := range w.desired {
		if j.Key != key {
			continue
		}
		switch op {
		case planner.OpUpdate:
			j.Settings["max_concurrent_runs"] = json.Number("3")
		case planner.OpReset:
			// Parameters change by reset only (their update merge is
			// undocumented).
			j.Settings["parameters"] = []any{map[string]any{"name": "day", "default": "today"}}
		case planner.OpDelete:
			w.desired = append(w.desired[:i:i], w.desired[i+1:]...)
		default:
			w.t.Fatalf("change: unsupported op %s", op)
		}
		p, err := w.plan()
		if err != nil {
			w.t.Fatal(err)
		}
		if c := p.Counts(); c[op] != 1 || len(p.Actions) != 1 {
			w.t.Fatalf("change %s %s: plan has %v", op, key, c)
		}
		w.emu.ResetRequests()
		return
	}
	w.t.Fatalf("change: no job %s", key)
}

var endpointOf = map[planner.Op]string{
	planner.OpCreate: "jobs/create",
	planner.OpUpdate: "jobs/update",
	planner.OpReset:  "jobs/reset",
	planner.OpDelete: "jobs/delete",
}

func TestFault429StormOnCreate(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t)
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", Status: http.StatusTooManyRequests, Count: 40})
	p, res, err := w.apply(applier.Options{})
	if err != nil {
		t.Fatalf("apply under a 429 storm: %v", err)
	}
	w.checkAfterFault(p, res)
	if got := w.count(status("jobs/create", 429)); got != 40 {
		t.Errorf("%d creates answered 429, want 40", got)
	}
	if st := w.client.Stats(); st.Throttled != 40 {
		t.Errorf("client counted %d throttled answers, want 40", st.Throttled)
	}
	if n := w.converge(0); n != 0 {
		t.Errorf("needed %d more applies", n)
	}
	fileRow(t, row{Fault: "429 storm: 40 × 429 on jobs/create", Behaviour: "retried with backoff, rate halved; apply completes", Injected: 40})
}

func TestFault429StormOnReads(t *testing.T) {
	t.Parallel()
	w := applied(t)
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: http.StatusTooManyRequests, Count: 10})
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/get", Status: http.StatusTooManyRequests, Count: 10})
	w.emu.InjectFault(emulator.Fault{Endpoint: "permissions/jobs", Method: http.MethodGet, Status: http.StatusTooManyRequests, Count: 10})
	p, err := w.plan()
	if err != nil {
		t.Fatalf("plan under a 429 storm: %v", err)
	}
	if !p.Empty() {
		t.Errorf("plan of an unchanged workspace under 429s has %v", p.Counts())
	}
	n := w.count(func(r emulator.Request) bool { return r.Status == 429 })
	w.converge(0)
	fileRow(t, row{Fault: "429 storm on reads (jobs/list, jobs/get, permissions)", Behaviour: "retried; the plan is the same as without faults", Injected: n})
}

func TestFault429RetryAfterHonoured(t *testing.T) {
	t.Parallel()
	w := applied(t)
	w.change(planner.OpUpdate, "job_00003")
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/update", Status: http.StatusTooManyRequests, RetryAfter: 1, Count: 1})
	start := time.Now()
	p, res, err := w.apply(applier.Options{})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	w.checkAfterFault(p, res)
	// Retry-After is whole seconds; the backoff alone would have been
	// milliseconds. (A lower bound, so not a flaky timing assertion.)
	if took := time.Since(start); took < time.Second {
		t.Errorf("the retry came after %s: Retry-After: 1 was not honoured", took)
	}
	w.converge(0)
	fileRow(t, row{Fault: "429 with Retry-After: 1 on jobs/update", Behaviour: "waits the full second, then succeeds", Injected: 1})
}

func TestFault429Endless(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{jobs: faultJobs, examples: true, client: jobsapi.Options{RetryTimeout: 300 * time.Millisecond}})
	w.gate.add(rule{endpoint: "jobs/create", count: -1, status: http.StatusTooManyRequests,
		body: `{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"Too many requests."}`})
	p, res, err := w.apply(applier.Options{})
	if err == nil {
		t.Fatal("apply succeeded against a workspace that throttles every create")
	}
	var re *jobsapi.RetryError
	if !errors.As(err, &re) || !jobsapi.IsThrottled(err) {
		t.Errorf("error %v: want a RetryError wrapping the 429", err)
	}
	if w.jobCount() != 0 || len(res.Applied) != 0 {
		t.Errorf("%d jobs exist, %d applied, after every create was refused", w.jobCount(), len(res.Applied))
	}
	w.checkAfterFault(p, res)
	n := int(w.gate.hits.Load())
	w.converge(1)
	fileRow(t, row{Fault: "429 on every jobs/create (retry budget 0.3 s)", Behaviour: "each create gives up when its retry budget is spent; apply stops, nothing created", Sees: firstErr(res, err), Injected: n})
}

func TestFault503BurstOnCreate(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t)
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", Status: http.StatusServiceUnavailable, Count: 20})
	p, res, err := w.apply(applier.Options{})
	if err != nil {
		t.Fatalf("apply through a burst of 503s: %v", err)
	}
	w.checkAfterFault(p, res)
	if got := w.count(status("jobs/create", 503)); got != 20 {
		t.Errorf("%d creates answered 503, want 20", got)
	}
	w.converge(0)
	fileRow(t, row{Fault: "503 burst: 20 × 503 on jobs/create", Behaviour: "retried (503 means not taken); apply completes", Injected: 20})
}

func TestFault500OnCreate(t *testing.T) {
	t.Parallel()
	// One 500: the create may or may not have happened; the applier looks
	// for the job by its ownership tag, finds none, and sends it again.
	w := newFaultWorld(t)
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", Status: http.StatusInternalServerError, Count: 1})
	p, res, err := w.apply(applier.Options{})
	if err != nil {
		t.Fatalf("apply after one 500 on create: %v", err)
	}
	w.checkAfterFault(p, res)
	w.converge(0)
	fileRow(t, row{Fault: "500 on one jobs/create", Behaviour: "ambiguous: looks for the job by tag, finds none, sends the create once more", Injected: 1})
}

func TestFault500TwiceOnCreate(t *testing.T) {
	t.Parallel()
	// Two 500s in a row for the same create: the applier gives up on it
	// (it never sends a create a third time) and the apply stops.
	w := newFaultWorld(t)
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", Status: http.StatusInternalServerError, Count: 2})
	p, res, err := w.apply(applier.Options{Parallelism: 1})
	if err == nil {
		t.Fatal("apply succeeded although a create failed twice")
	}
	if len(res.Failed) != 1 {
		t.Errorf("%d failed actions, want 1", len(res.Failed))
	}
	w.checkAfterFault(p, res)
	if n := w.converge(1); n != 1 {
		t.Errorf("converged in %d applies, want 1", n)
	}
	fileRow(t, row{Fault: "500 twice on the same jobs/create", Behaviour: "action fails after the second try (no third create), apply stops; the next apply finishes", Sees: firstErr(res, err), Injected: 2})
}

func TestFault5xxOnWrites(t *testing.T) {
	t.Parallel()
	// 500 (an internal error), 502 and 504 (a gateway gave up: the write
	// may have happened) and 503 (not taken) on the idempotent writes are
	// all retried: repeating an update, reset or delete cannot duplicate
	// anything.
	for _, op := range []planner.Op{planner.OpUpdate, planner.OpReset, planner.OpDelete} {
		for _, code := range []int{500, 502, 503, 504} {
			t.Run(fmt.Sprintf("%s/%d", op, code), func(t *testing.T) {
				t.Parallel()
				w := applied(t)
				w.change(op, "job_00007")
				const count = 3
				w.emu.InjectFault(emulator.Fault{Endpoint: endpointOf[op], Status: code, Count: count})
				p, res, err := w.apply(applier.Options{})
				w.checkAfterFault(p, res)
				if err != nil {
					t.Fatalf("apply through %d × %d: %v", count, code, err)
				}
				injected := w.count(status(endpointOf[op], code))
				if injected != count {
					t.Errorf("%d answers %d, want %d", injected, code, count)
				}
				w.converge(0)
				fileRow(t, row{Fault: fmt.Sprintf("%d × %d on %s", injected, code, endpointOf[op]), Behaviour: "retried (idempotent write); apply completes", Injected: injected})
			})
		}
	}
}

func TestFault5xxOnReads(t *testing.T) {
	t.Parallel()
	// A big lockfile makes refresh list the workspace; every read endpoint
	// gets a burst of each 5xx. The plan must come out as without faults.
	w := newWorld(t, worldOptions{jobs: 60, examples: true})
	w.mustApply()
	w.change(planner.OpUpdate, "job_00011") // one job to confirm with jobs/get
	for _, ep := range []string{"jobs/list", "jobs/get", "permissions/jobs"} {
		for _, code := range []int{500, 502, 503, 504} {
			w.emu.InjectFault(emulator.Fault{Method: http.MethodGet, Endpoint: ep, Status: code, Count: 2})
		}
	}
	p, err := w.plan()
	if err != nil {
		t.Fatalf("plan through 5xx bursts: %v", err)
	}
	if c := p.Counts(); c[planner.OpUpdate] != 1 || len(p.Actions) != 1 {
		t.Errorf("plan through 5xx bursts has %v, want the one update", c)
	}
	n := w.count(func(r emulator.Request) bool { return r.Status >= 500 })
	if n < 16 {
		t.Errorf("only %d 5xx answers were given", n)
	}
	w.converge(1)
	fileRow(t, row{Fault: "500/502/503/504 bursts on jobs/list, jobs/get, permissions GET", Behaviour: "reads retried; the plan is the same as without faults", Injected: n})
}

func TestFaultTimeout(t *testing.T) {
	t.Parallel()
	// Every answer comes later than the client waits for one attempt.
	w := newWorld(t, worldOptions{jobs: faultJobs, examples: true,
		client: jobsapi.Options{AttemptTimeout: 100 * time.Millisecond, RetryTimeout: 600 * time.Millisecond}})
	w.emu.SetLatency(400 * time.Millisecond)
	start := time.Now()
	_, err := w.plan()
	took := time.Since(start)
	if err == nil {
		t.Fatal("plan succeeded although every answer timed out")
	}
	if w.jobCount() != 0 {
		t.Errorf("%d jobs exist after a failed plan", w.jobCount())
	}
	if _, serr := os.Stat(w.lock); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("a failed plan wrote the lockfile: %v", serr)
	}
	n := w.count(func(r emulator.Request) bool { return r.Status == 0 })
	t.Logf("gave up after %s", took)
	w.emu.SetLatency(0)
	w.converge(1)
	fileRow(t, row{Fault: "every answer later than the attempt timeout (0.1 s; 0.4 s latency)", Behaviour: "attempts time out and are retried within the retry budget, then the plan fails; nothing written", Sees: err.Error(), Injected: n})
}

func TestFaultLateAnswerAfterCommit(t *testing.T) {
	t.Parallel()
	// The workspace does the write but answers after the client stopped
	// waiting. A create is then ambiguous and must be adopted, not
	// repeated; updates and deletes are repeated harmlessly.
	for _, op := range []planner.Op{planner.OpCreate, planner.OpUpdate, planner.OpDelete} {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOptions{jobs: faultJobs, examples: true, client: jobsapi.Options{AttemptTimeout: 150 * time.Millisecond}})
			if op != planner.OpCreate {
				w.mustApply()
				w.change(op, "job_00009")
			}
			w.gate.add(rule{endpoint: endpointOf[op], count: 2, late: time.Second})
			p, res, err := w.apply(applier.Options{})
			if err != nil {
				t.Fatalf("apply with late answers: %v", err)
			}
			w.checkAfterFault(p, res)
			w.converge(0)
			fileRow(t, row{Fault: fmt.Sprintf("2 answers of %s later than the attempt timeout, after the write", endpointOf[op]),
				Behaviour: map[planner.Op]string{planner.OpCreate: "ambiguous create: found by its ownership tag and adopted, not repeated",
					planner.OpUpdate: "update repeated (idempotent)", planner.OpDelete: "delete repeated; \"does not exist\" then counts as done"}[op],
				Injected: int(w.gate.hits.Load())})
		})
	}
}

func TestFaultDroppedConnection(t *testing.T) {
	t.Parallel()
	for _, op := range []planner.Op{planner.OpCreate, planner.OpUpdate, planner.OpReset, planner.OpDelete} {
		for _, after := range []bool{false, true} {
			when := "before"
			if after {
				when = "after"
			}
			t.Run(fmt.Sprintf("%s/%s-commit", op, when), func(t *testing.T) {
				t.Parallel()
				w := newFaultWorld(t)
				if op != planner.OpCreate {
					w.mustApply()
					w.change(op, "job_00004")
				}
				w.emu.InjectFault(emulator.Fault{Endpoint: endpointOf[op], Count: 2, DropBeforeCommit: !after, DropAfterCommit: after})
				p, res, err := w.apply(applier.Options{Parallelism: 1})
				w.checkAfterFault(p, res)
				dropped := w.count(status(endpointOf[op], 0))
				behaviour := map[planner.Op]string{
					planner.OpCreate: "ambiguous create: looked up by ownership tag (again after a settle time); adopted if it happened, never sent twice in one apply",
					planner.OpUpdate: "retried (idempotent)", planner.OpReset: "retried (idempotent)",
					planner.OpDelete: "retried; \"does not exist\" after a committed delete counts as done",
				}[op]
				rounds := 0
				if err != nil {
					// A drop before commit on a create: no answer came, so
					// the request might still be running in the workspace;
					// it is not sent again in this apply (a second create
					// racing the first would be a duplicate). The action
					// fails; the next apply meets the second drop and fails
					// the same way; the one after creates the job.
					if !(op == planner.OpCreate && !after) {
						t.Fatalf("apply with %d dropped connections: %v", dropped, err)
					}
					if _, _, err2 := w.apply(applier.Options{Parallelism: 1}); err2 == nil {
						t.Fatalf("the apply meeting the second dropped create succeeded")
					}
					dropped = w.count(status(endpointOf[op], 0))
					behaviour += "; each drop fails the action without a second sending, the next apply creates it"
					rounds = 1
				}
				if n := w.converge(rounds); n != rounds {
					t.Errorf("converged in %d applies, want %d", n, rounds)
				}
				if dropped != 2 {
					t.Errorf("%d connections dropped, want 2", dropped)
				}
				fileRow(t, row{Fault: fmt.Sprintf("2 connections to %s dropped %s commit", endpointOf[op], when), Behaviour: behaviour, Sees: firstErr(res, err), Injected: dropped})
			})
		}
	}
}

func TestFaultBadBodiesOnReads(t *testing.T) {
	t.Parallel()
	// A cut-off JSON answer with status 200 and a gateway's HTML error page
	// are both retried on reads; the plan comes out as without them.
	w := newWorld(t, worldOptions{jobs: 60, examples: true})
	w.mustApply()
	w.change(planner.OpUpdate, "job_00013")
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 200, Body: `{"jobs":[{"job_id":9081234567890123,"settings":{"name":"cut`, Count: 2})
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/get", Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>", Count: 2})
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/get", Status: 200, Body: "<html><body>Sign in</body></html>", Count: 1})
	p, err := w.plan()
	if err != nil {
		t.Fatalf("plan through bad bodies: %v", err)
	}
	if c := p.Counts(); c[planner.OpUpdate] != 1 || len(p.Actions) != 1 {
		t.Errorf("plan through bad bodies has %v, want the one update", c)
	}
	w.converge(1)
	fileRow(t, row{Fault: "truncated JSON (200) on jobs/list; HTML pages (502 and 200) on jobs/get", Behaviour: "reads retried; the plan is the same as without faults", Injected: 5})
}

func TestFaultHTMLBodyPersistent(t *testing.T) {
	t.Parallel()
	// A proxy answers every read with an HTML page: the user must get one
	// readable line, not the page.
	w := newWorld(t, worldOptions{jobs: 60, client: jobsapi.Options{RetryTimeout: 200 * time.Millisecond}})
	page := "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>" + strings.Repeat("<!-- padding -->", 100) + "</body></html>"
	w.gate.add(rule{endpoint: "jobs/list", count: -1, status: http.StatusBadGateway, body: page})
	_, err := w.plan()
	if err == nil {
		t.Fatal("plan succeeded although every list answer was an HTML page")
	}
	msg := err.Error()
	if strings.Contains(msg, "<html") || strings.Contains(msg, "padding") || len(msg) > 400 {
		t.Errorf("the error shows the HTML page: %q", msg)
	}
	if !strings.Contains(msg, "502") {
		t.Errorf("the error does not name the status: %q", msg)
	}
	n := int(w.gate.hits.Load())
	w.converge(1)
	fileRow(t, row{Fault: "HTML 502 page on every jobs/list (retry budget 0.2 s)", Behaviour: "retried until the budget is spent, then the plan fails; nothing written", Sees: msg, Injected: n})
}

func TestFaultSpoiledAnswerAfterCommit(t *testing.T) {
	t.Parallel()
	// The write is done, then its answer is cut off or replaced by an HTML
	// page: creates are adopted by tag, idempotent writes repeated.
	for _, op := range []planner.Op{planner.OpCreate, planner.OpUpdate, planner.OpReset} {
		for _, html := range []bool{false, true} {
			kind := "truncated JSON"
			if html {
				kind = "HTML page (200)"
			}
			t.Run(fmt.Sprintf("%s/html=%v", op, html), func(t *testing.T) {
				t.Parallel()
				w := newFaultWorld(t)
				if op != planner.OpCreate {
					w.mustApply()
					w.change(op, "job_00002")
				}
				// Two creates lose their answer; an update or reset has one.
				n := 2
				if op != planner.OpCreate {
					n = 1
				}
				w.gate.add(rule{endpoint: endpointOf[op], count: n, cut: !html, html: html})
				p, res, err := w.apply(applier.Options{})
				if err != nil {
					t.Fatalf("apply with spoiled answers: %v", err)
				}
				w.checkAfterFault(p, res)
				w.converge(0)
				behaviour := "ambiguous create: found by ownership tag and adopted, not repeated"
				if op != planner.OpCreate {
					// Not a JSON object: the idempotent write is sent again,
					// which is harmless.
					if got := w.count(status(endpointOf[op], http.StatusOK)); got != 2 {
						t.Errorf("%s reached the workspace %d times, want 2 (the write and its retry)", endpointOf[op], got)
					}
					behaviour = "unreadable answer: the idempotent write is sent again, harmlessly"
				}
				fileRow(t, row{Fault: fmt.Sprintf("%d answer(s) of %s replaced by a %s after the write", n, endpointOf[op], kind), Behaviour: behaviour, Injected: int(w.gate.hits.Load())})
			})
		}
	}
}

func TestFaultAuthRevokedMidApply(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			w := newFaultWorld(t)
			done := 0
			p, res, err := w.apply(applier.Options{Parallelism: 4, Progress: func(e applier.Event) {
				if e.Phase == applier.PhaseDone {
					if done++; done == 10 {
						w.gate.deny(code) // the token is revoked (401) or loses its rights (403)
					}
				}
			}})
			if err == nil {
				t.Fatal("apply succeeded although the credentials were refused")
			}
			if !jobsapi.IsAuth(err) {
				t.Errorf("error %v: want an auth error", err)
			}
			if len(res.Applied) < 10 || len(res.NotStarted) == 0 {
				t.Errorf("applied %d, not started %d: want 10+ done before the refusal and the rest not started", len(res.Applied), len(res.NotStarted))
			}
			w.checkAfterFault(p, res)
			denied := int(w.gate.hits.Load())
			if n := w.converge(1); n != 1 {
				t.Errorf("converged in %d applies, want 1", n)
			}
			fileRow(t, row{Fault: fmt.Sprintf("%d on every request from the 10th completed action on", code),
				Behaviour: "in-flight actions fail without retry, no new action starts; the applied ones are in the lockfile; the next apply finishes",
				Sees:      firstErr(res, err), Injected: denied})
		})
	}
}

func TestFaultHostUnreachable(t *testing.T) {
	t.Parallel()
	// A loopback port nobody listens on, with the client's default retry
	// settings: how long does a user wait for the verdict?
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	host := "http://" + ln.Addr().String()
	must(t, ln.Close())
	c := newClient(t, host, jobsapi.Options{})
	dir := t.TempDir()
	lock := filepath.Join(dir, "jobsync.lock.json")
	w := newFaultWorld(t) // for its desired jobs only
	start := time.Now()
	_, _, err = refresh.Plan(w.ctx, c, planner.Input{Desired: w.desired, Project: project, Workspace: host}, refresh.Options{})
	took := time.Since(start)
	if err == nil {
		t.Fatal("plan against a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not say which host cannot be reached", err)
	}
	if st := c.Stats(); st.Requests > 8 {
		t.Errorf("%d connection attempts against a closed port", st.Requests)
	}
	if _, serr := os.Stat(lock); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("lockfile written: %v", serr)
	}
	t.Logf("gave up after %s and %d attempts", took.Round(time.Millisecond), c.Stats().Requests)
	fileRow(t, row{Fault: "host unreachable (closed loopback port), default client settings",
		Behaviour: fmt.Sprintf("gives up after %d connection attempts (%.1f s here; backoff 0.5+1+2 s at most); nothing written", c.Stats().Requests, took.Seconds()),
		Sees:      err.Error(), Injected: int(c.Stats().Requests)})
}

func TestFaultHTML200WithoutWrite(t *testing.T) {
	t.Parallel()
	// A proxy in front of the workspace (an SSO or captive portal) answers
	// 200 with an HTML page: the request never reached the Jobs API. An
	// apply must not count such a write as done: the write must really
	// happen (on a retry) or the action must fail.
	for _, op := range []planner.Op{planner.OpCreate, planner.OpUpdate, planner.OpReset, planner.OpDelete} {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			w := newFaultWorld(t)
			if op != planner.OpCreate {
				w.mustApply()
				w.change(op, "job_00006")
			}
			w.gate.add(rule{endpoint: endpointOf[op], count: 1, status: http.StatusOK, body: "<html><body><form>Sign in</form></body></html>"})
			p, res, err := w.apply(applier.Options{Parallelism: 1})
			w.checkAfterFault(p, res)
			if err != nil {
				t.Fatalf("apply through an HTML 200 page: %v", err)
			}
			// Did the write reach the workspace? The emulator saw it
			// succeed, and nothing is left to plan.
			done := w.count(status(endpointOf[op], http.StatusOK))
			w.gate.clear()
			again, perr := w.plan()
			must(t, perr)
			_, orphan := w.owned()["job_00006"]
			if done == 0 || !again.Empty() || (op == planner.OpDelete && orphan) {
				fileRow(t, row{Fault: fmt.Sprintf("HTML page with status 200 instead of the answer to %s, write not done", endpointOf[op]),
					Behaviour: "taken as success: the apply reports the action applied and the lockfile records it, but the workspace is unchanged",
					Injected:  1, Known: "F1"})
				knownIssue(t, "F1", fmt.Sprintf("a 200 answer with an HTML body to %s is taken as success although the write never happened: "+
					"the apply reports it applied, the lockfile records it, and the next plan shows %v", endpointOf[op], again.Counts()))
			}
			w.converge(0)
			behaviour := "not a JSON object: retried (idempotent write), the retry does the write"
			if op == planner.OpCreate {
				behaviour = "unreadable answer to a create: the exchange is over, so the lookup is the truth: not found, sent once more"
			}
			fileRow(t, row{Fault: fmt.Sprintf("HTML page with status 200 instead of the answer to %s, write not done", endpointOf[op]),
				Behaviour: behaviour, Injected: 1})
		})
	}
}

// knownIssue marks a reproduced bug that belongs to another package (see
// RELIABILITY.md, findings): the test is skipped, loudly, while the bug is
// there, and runs in full once it is fixed.
func knownIssue(t *testing.T, id, what string) {
	t.Helper()
	t.Skipf("KNOWN ISSUE %s (RELIABILITY.md): %s", id, what)
}

func TestFaultOrphanedTaggedJob(t *testing.T) {
	t.Parallel()
	// A job carries our tag for a key that is neither configured nor in
	// the lockfile (a delete whose record was lost, a lockfile restored
	// from git): `apply --prune` must find it and delete it.
	w := applied(t)
	body := `{"name":"ghost","tags":{"jobsync":"` + planner.OwnerTagValue(project, "ghost") + `"},` +
		`"tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/x"}}]}`
	id, err := w.audit.CreateJob(w.ctx, json.RawMessage(body))
	must(t, err)
	p, res, err := w.apply(applier.Options{})
	if err != nil {
		t.Fatalf("apply --prune with an orphaned tagged job: %v", err)
	}
	if c := p.Counts(); c[planner.OpDelete] != 1 || len(p.Actions) != 1 {
		t.Errorf("plan has %v, want the orphan's delete", c)
	}
	w.checkAfterFault(p, res)
	if _, left := w.owned()["ghost"]; left {
		t.Errorf("orphaned job %d is still there", id)
	}
	w.converge(0)
	fileRow(t, row{Fault: "a job carrying our tag for an unconfigured key, missing from the lockfile", Behaviour: "found by listing (prune always lists) and deleted", Injected: 1})
}

func TestFaultLockfileLost(t *testing.T) {
	t.Parallel()
	// The lockfile is deleted (or never committed): every job is adopted
	// by its ownership tag, none is created again.
	w := applied(t)
	before := w.jobCount()
	must(t, os.Remove(w.lock))
	p, res, err := w.apply(applier.Options{})
	if err != nil {
		t.Fatalf("apply without a lockfile: %v", err)
	}
	if len(p.Actions) != 0 || len(p.Records) != len(w.desired) {
		t.Errorf("plan without a lockfile: %v and %d records; want no action and %d records", p.Counts(), len(p.Records), len(w.desired))
	}
	w.checkAfterFault(p, res)
	if n := w.jobCount(); n != before {
		t.Errorf("%d jobs after re-adoption, want %d", n, before)
	}
	w.converge(0)
	fileRow(t, row{Fault: "lockfile deleted", Behaviour: "every job adopted by its ownership tag (lockfile-only records, no API write); nothing created twice", Injected: 1})
}
