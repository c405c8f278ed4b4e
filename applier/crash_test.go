package applier

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// TestMain doubles as the crash test's child: with APPLIER_CRASH_URL set,
// the test binary is a jobsync apply of crashJobs against that workspace,
// to be killed with SIGKILL at some instant.
func TestMain(m *testing.M) {
	if url := os.Getenv("APPLIER_CRASH_URL"); url != "" {
		n, _ := strconv.Atoi(os.Getenv("APPLIER_CRASH_JOBS"))
		if err := crashApply(context.Background(), url, os.Getenv("APPLIER_CRASH_LOCK"), n); err != nil {
			fmt.Fprintln(os.Stderr, "child apply:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashJobs are the desired jobs of the crash test; every tenth one runs
// the one before it, so creates also wait for references.
func crashJobs(n int) []*schema.Job {
	out := make([]*schema.Job, n)
	for i := range n {
		key := fmt.Sprintf("j%03d", i)
		if i%10 == 9 {
			out[i] = job(key, fmt.Sprintf("j%03d", i-1))
		} else {
			out[i] = job(key)
		}
	}
	return out
}

// crashApply is what `jobsync apply --auto-approve` does: lock, read the
// workspace, plan, apply.
func crashApply(ctx context.Context, url, lockPath string, n int) error {
	c, err := jobsapiClient(url)
	if err != nil {
		return err
	}
	unlock, err := state.Lock(ctx, lockPath, 0)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := buildPlan(ctx, c, lockPath, crashJobs(n), false)
	if err != nil {
		return err
	}
	st, err := state.Open(ctx, lockPath)
	if err != nil {
		return err
	}
	_, err = Apply(ctx, p, c, st, Options{Parallelism: 8})
	return err
}

func jobsapiClient(url string) (*jobsapi.Client, error) {
	// The token is long enough that redacting it from messages does not
	// mangle them.
	return jobsapi.New(jobsapi.Config{Host: url, Token: "dapi-emulator-test-token"}, jobsapi.Options{
		Parallelism: 64, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, RetryTimeout: 10 * time.Second,
	})
}

// crashStats are the outcomes over all kill points.
type crashStats struct {
	kills, killsBeforeCommit, killsAfterCommit, killsByTimer int
	exitedBeforeKill                                         int
	lockFilesLeft, journalsReplayed, adopted, resumedCreates int
	droppedAfterCommit                                       int
}

// TestCrashSafety is the proof that an apply killed at any instant loses
// nothing and duplicates nothing: an apply of 200 jobs runs in a child
// process against an emulator served from this one, and is SIGKILLed at a
// chosen request (before the emulator commits it, or after it committed
// and before the answer leaves), or after a random delay (anywhere,
// including inside journal appends and the final commit). Each round kills
// one to three children in a row, then finishes the apply with a plain
// lock-plan-apply (no unlock: the lock died with each child) and checks:
// exactly one job per key and no other job, a lockfile that opens cleanly
// and names exactly those jobs, no journal or temp file left, and an empty
// plan. Some rounds also drop the answers of creates the emulator committed.
func TestCrashSafety(t *testing.T) {
	const n = 200
	// About two kills per round; more rounds run if some children finish
	// before their kill point.
	const rounds, minKills = 30, 55
	rng := rand.New(rand.NewPCG(1, 2))

	// Calibrate: how many requests and how long a whole child apply takes.
	total, dur := calibrate(t, n)
	t.Logf("a whole apply of %d jobs: %d requests, %v", n, total, dur.Round(time.Millisecond))

	var st crashStats
	for round := 0; round < rounds || st.kills < minKills; round++ {
		if round >= 3*rounds {
			t.Fatalf("after %d rounds only %d kill points were exercised", round, st.kills)
		}
		e := newEnv(t, emulator.Options{Latency: time.Millisecond})
		if round%4 == 3 {
			// Lose the answers of a few committed creates too.
			e.emu.InjectFault(emulator.Fault{Method: "POST", Endpoint: "jobs/create", DropAfterCommit: true, Count: 3})
			st.droppedAfterCommit += 3
		}
		want := 1 + round%3
		for k, attempts := 0, 0; k < want && attempts < want+3; attempts++ {
			lockLeftBehind(t, e.lockPath, &st)
			mode := [...]string{"before", "after", "timer"}[(round+attempts)%3]
			// The child lists the workspace, reads each job and its
			// permissions, then creates the rest. Most kill points fall
			// among its writes, the others anywhere.
			existing := len(e.emu.JobIDs())
			writes := n - existing
			est := existing/100 + 1 + 2*existing + writes
			target := 1 + rng.IntN(est)
			if writes > 0 && rng.IntN(5) > 0 {
				target = est - writes + 1 + rng.IntN(writes)
			}
			delay := time.Duration(rng.Int64N(int64(dur) * int64(est) / int64(total)))
			if !runAndKill(t, e, n, mode, target, delay) {
				st.exitedBeforeKill++
				continue
			}
			k++
			st.kills++
			switch mode {
			case "before":
				st.killsBeforeCommit++
			case "after":
				st.killsAfterCommit++
			default:
				st.killsByTimer++
			}
			if _, err := os.Stat(e.lockPath + ".journal"); err == nil {
				st.journalsReplayed++
			}
		}

		// Run again to the end.
		lockLeftBehind(t, e.lockPath, &st)
		p, err := buildPlan(context.Background(), e.client, e.lockPath, crashJobs(n), false)
		if err != nil {
			t.Fatalf("round %d: plan after the kills: %v", round, err)
		}
		st.adopted += len(p.Records)
		st.resumedCreates += len(p.Actions)
		if err := crashApply(context.Background(), e.srv.URL, e.lockPath, n); err != nil {
			t.Fatalf("round %d: apply after the kills: %v", round, err)
		}
		checkConsistent(t, e, n, round)
	}
	t.Logf("kill points: %d (before commit %d, after commit %d, timer %d); children that finished before their kill point: %d",
		st.kills, st.killsBeforeCommit, st.killsAfterCommit, st.killsByTimer, st.exitedBeforeKill)
	t.Logf("outcomes: lock files left behind (taken over, no unlock) %d, journals replayed %d, jobs adopted by tag %d, actions resumed %d, create answers dropped %d",
		st.lockFilesLeft, st.journalsReplayed, st.adopted, st.resumedCreates, st.droppedAfterCommit)
}

// calibrate runs one child apply to the end and measures it.
func calibrate(t *testing.T, n int) (int, time.Duration) {
	e := newEnv(t, emulator.Options{Latency: time.Millisecond})
	start := time.Now()
	cmd := child(e, n)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("calibration child: %v\n%s", err, out)
	}
	return int(e.emu.RequestCount()), time.Since(start)
}

func child(e *env, n int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "APPLIER_CRASH_URL="+e.srv.URL, "APPLIER_CRASH_LOCK="+e.lockPath,
		"APPLIER_CRASH_JOBS="+strconv.Itoa(n))
	return cmd
}

// runAndKill starts a child apply and SIGKILLs it at request number target
// (mode "before": the emulator never sees that request; "after": it
// commits it and the answer is lost), or after delay (mode "timer"). It
// reports whether the child was killed rather than finishing first.
func runAndKill(t *testing.T, e *env, n int, mode string, target int, delay time.Duration) bool {
	t.Helper()
	cmd := child(e, n)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	var killed atomic.Bool
	var proc atomic.Pointer[os.Process] // set once started; read by the handler
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			killed.Store(true)
			if p := proc.Load(); p != nil {
				_ = p.Kill()
			}
		})
	}
	var count atomic.Int64
	if mode != "timer" {
		f := aroundFunc(func(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc) {
			if killed.Load() {
				// The process is gone; what it had in flight may still be
				// served (as a real server would), but nothing new arrives.
				serve(w, r)
				return
			}
			if count.Add(1) != int64(target) {
				serve(w, r)
				return
			}
			if mode == "after" {
				serve(httptest.NewRecorder(), r)
			}
			kill()
		})
		e.around.Store(&f)
		defer e.around.Store(nil)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	proc.Store(cmd.Process)
	if killed.Load() {
		_ = cmd.Process.Kill() // the kill point came before Store
	}
	if mode == "timer" {
		tm := time.AfterFunc(delay, kill)
		defer tm.Stop()
	}
	err := cmd.Wait()
	e.handling.Wait() // whatever the dead child had in flight is done
	if !killed.Load() {
		if err != nil {
			t.Fatalf("child failed before its kill point: %v\n%s", err, stderr.String())
		}
		return false
	}
	return true
}

// lockLeftBehind checks that whatever lock a killed child left blocks
// nobody: the next apply takes it at once, with no unlock and no wait (the
// lock is the kernel's and died with the child). It counts the lock files
// the children left behind.
func lockLeftBehind(t *testing.T, path string, st *crashStats) {
	t.Helper()
	if _, err := os.Lstat(state.LockPath(path)); err == nil {
		st.lockFilesLeft++
	}
	unlock, err := state.Lock(context.Background(), path, 0)
	if err != nil {
		t.Fatalf("the lock of a killed child blocks the next apply: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

// checkConsistent: one job per key and nothing else, a lockfile naming
// exactly them, nothing left over on disk, and an empty plan.
func checkConsistent(t *testing.T, e *env, n, round int) {
	t.Helper()
	got := tagged(t, e.client)
	if len(got) != n || len(e.emu.JobIDs()) != n {
		t.Fatalf("round %d: %d keys tagged and %d jobs in the workspace, want %d and %d", round, len(got), len(e.emu.JobIDs()), n, n)
	}
	lf := e.lock()
	if len(lf.Jobs) != n {
		t.Fatalf("round %d: lockfile has %d jobs, want %d", round, len(lf.Jobs), n)
	}
	for k, ids := range got {
		if len(ids) != 1 {
			t.Fatalf("round %d: key %s has %d jobs %v", round, k, len(ids), ids)
		}
		if lf.Jobs[k].JobID != ids[0] {
			t.Fatalf("round %d: lockfile maps %s to %d, workspace has %d", round, k, lf.Jobs[k].JobID, ids[0])
		}
	}
	entries, err := os.ReadDir(filepath.Dir(e.lockPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, de := range entries {
			names = append(names, de.Name())
		}
		t.Fatalf("round %d: files left next to the lockfile: %v", round, names)
	}
	if _, err := os.Lstat(state.LockPath(e.lockPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("round %d: the last apply left its lock file: %v", round, err)
	}
	p, err := buildPlan(context.Background(), e.client, e.lockPath, crashJobs(n), false)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || len(p.Records) != 0 {
		t.Fatalf("round %d: plan after convergence has %d actions and %d records", round, len(p.Actions), len(p.Records))
	}
}
