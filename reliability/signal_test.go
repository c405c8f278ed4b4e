//go:build unix

package reliability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/state"
)

// Stopping an apply from outside: every signal that asks a process to end,
// and an output whose reader went away (`jobsync apply | head`), stop it as
// Ctrl-C does: no new action starts, the ones in flight finish and are
// recorded, the journal is folded into the lockfile, the lock is released,
// exit 130. The next plain apply finishes the work.

const stopJobs = 40

// stopWorld is a world slow enough (10 ms a request) that a stop lands in
// the middle of the creates.
func stopWorld(t *testing.T) *world {
	return newWorld(t, worldOptions{jobs: stopJobs, emulator: emulator.Options{Latency: 10 * time.Millisecond}})
}

// applyCmd is `jobsync apply --auto-approve` of the world's YAML, with
// extra flags, against its workspace; ctx kills it.
func (w *world) applyCmd(ctx context.Context, t *testing.T, extra ...string) *exec.Cmd {
	args := append([]string{"apply", "--auto-approve", "--project", project, "--lockfile", w.lock}, extra...)
	args = append(args, filepath.Join(w.dir, "jobs"))
	return cli{args: args, dir: w.dir, env: []string{"DATABRICKS_HOST=" + w.srv.URL, "DATABRICKS_TOKEN=dapi-reliability"}}.command(ctx, t)
}

// onCreate calls f (once) when the emulator receives the n-th jobs/create.
func (w *world) onCreate(n int32, f func()) {
	var creates atomic.Int32
	var once sync.Once
	observe := func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/jobs/create") && creates.Add(1) == n {
			once.Do(f)
		}
	}
	w.gate.observe.Store(&observe)
}

// checkStopped checks the state an apply stopped from outside leaves: no
// journal, no lock held (and no lock file: it was released, not died), the
// lockfile naming exactly the jobs that exist, each once. It returns how
// many were created.
func (w *world) checkStopped(t *testing.T) int {
	t.Helper()
	if _, err := os.Lstat(w.lock + ".journal"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the journal was left behind (not folded into the lockfile): %v", err)
	}
	if _, err := os.Lstat(state.LockPath(w.lock)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the lock file was left behind (the lock was not released): %v", err)
	}
	owned := w.owned()
	lf := w.lockfile()
	recorded := 0
	if lf != nil {
		recorded = len(lf.Jobs)
	}
	for k, ids := range owned {
		if len(ids) != 1 {
			t.Errorf("duplicate: %s has jobs %v", k, ids)
			continue
		}
		if lf == nil || lf.Jobs[k].JobID != ids[0] {
			t.Errorf("job %d (%s) exists but the lockfile does not record it", ids[0], k)
		}
	}
	if recorded != len(owned) {
		t.Errorf("the lockfile records %d jobs, the workspace has %d", recorded, len(owned))
	}
	return len(owned)
}

// finish runs a plain apply (no unlock, no flag), checks convergence and
// returns what the apply printed.
func (w *world) finish(t *testing.T) string {
	t.Helper()
	w.gate.observe.Store(nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := w.applyCmd(ctx, t).CombinedOutput()
	if err != nil {
		t.Fatalf("the plain apply after the stop: %v\n%s", err, out)
	}
	w.checkConverged()
	p, err := w.plan()
	must(t, err)
	if !p.Empty() || len(p.Records) != 0 {
		t.Errorf("plan after the finishing apply: %v, %d records", p.Counts(), len(p.Records))
	}
	return string(out)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("jobsync was killed by %v instead of stopping", ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

func TestSignalMidApply(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT"}[sig]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := stopWorld(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := w.applyCmd(ctx, t)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			var proc atomic.Pointer[os.Process]
			w.onCreate(5, func() { _ = proc.Load().Signal(sig) })
			must(t, cmd.Start())
			proc.Store(cmd.Process)
			code := exitCode(t, cmd.Wait())
			if code != 130 || !strings.Contains(stderr.String(), "Interrupted") || strings.Contains(stderr.String(), "goroutine ") {
				t.Fatalf("apply stopped by %v: exit %d\n--- stdout\n%s--- stderr\n%s", sig, code, stdout.String(), stderr.String())
			}
			created := w.checkStopped(t)
			if created == 0 || created >= stopJobs {
				t.Errorf("%d of %d jobs created: the signal did not land mid-apply", created, stopJobs)
			}
			t.Logf("%s after the 5th create: %d of %d jobs created and recorded", name, created, stopJobs)
			w.finish(t)
			fileRow(t, row{Fault: fmt.Sprintf("%s mid-apply (at the 5th of %d creates)", name, stopJobs),
				Behaviour: "no new action starts; the ones in flight finish and are recorded; journal folded into the lockfile, lock released, exit 130; the next plain apply finishes",
				Sees:      lastLine(stderr.String()), Injected: 1})
		})
	}
}

// TestClosedOutputMidApply: `jobsync apply --progress 2>&1 | head -3`. The
// reader goes away while the apply writes progress lines; the next write
// fails with EPIPE (SIGPIPE would kill the process), and jobsync stops as
// it does on Ctrl-C.
func TestClosedOutputMidApply(t *testing.T) {
	t.Parallel()
	w := stopWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := w.applyCmd(ctx, t, "--progress")
	pr, pw, err := os.Pipe()
	must(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	must(t, cmd.Start())
	pw.Close()
	var head []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		head = append(head, sc.Text())
		if strings.HasPrefix(sc.Text(), "[3/") {
			break // the third progress line: the apply is under way
		}
	}
	pr.Close()
	code := exitCode(t, cmd.Wait())
	if code != 130 {
		t.Fatalf("apply whose output was closed: exit %d; it printed:\n%s", code, strings.Join(head, "\n"))
	}
	created := w.checkStopped(t)
	if created == 0 || created >= stopJobs {
		t.Errorf("%d of %d jobs created: the output did not close mid-apply", created, stopJobs)
	}
	t.Logf("output closed after the 3rd progress line: %d of %d jobs created and recorded", created, stopJobs)
	w.finish(t)
	fileRow(t, row{Fault: "output closed mid-apply (`jobsync apply --progress 2>&1` piped into `head -3`: SIGPIPE, then EPIPE on every write)",
		Behaviour: "SIGPIPE is ignored, so the write fails instead of killing the process; the failed write stops the apply as Ctrl-C does: in-flight actions recorded, journal folded, lock released, exit 130",
		Sees:      "(nothing: the output is gone)", Injected: 1})
}

// TestClosedOutputDuringPlan: `jobsync apply --auto-approve | head -3`
// closes stdout while the plan is being printed, before anything is
// applied: jobsync must not die of SIGPIPE with its lock file and journal
// behind; it stops (nothing applied) or, if the plan fit in the pipe,
// applies and exits normally.
func TestClosedOutputDuringPlan(t *testing.T) {
	t.Parallel()
	w := stopWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := w.applyCmd(ctx, t)
	pr, pw, err := os.Pipe()
	must(t, err)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	must(t, cmd.Start())
	pw.Close()
	sc := bufio.NewScanner(pr)
	for i := 0; i < 3 && sc.Scan(); i++ {
	}
	pr.Close()
	code := exitCode(t, cmd.Wait())
	if code != 0 && code != 130 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	created := w.checkStopped(t)
	t.Logf("stdout closed after 3 lines of the plan: exit %d, %d of %d jobs created", code, created, stopJobs)
	w.finish(t)
	fileRow(t, row{Fault: "stdout closed while the plan is printed (`jobsync apply --auto-approve` piped into `head -3`)",
		Behaviour: fmt.Sprintf("no death by SIGPIPE: the failed write stops the command before it applies anything (here: exit %d, %d jobs created), lock released", code, created),
		Sees:      lastLine(stderr.String()), Injected: 1})
}
