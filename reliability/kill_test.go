//go:build unix

package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// killJobs: the world of TestKill9ThenPlainApply is the examples
// (permissions, ${jobs.x.id} references, a 120-task job) plus this many
// generated jobs.
const killJobs = 12

// TestKill9ThenPlainApply is the user's view of crash safety: the real
// `jobsync apply --auto-approve` is SIGKILLed at some instant, and then the
// very same command, with no `state unlock` and no extra flag, must succeed
// and leave exactly the declared jobs: one per key, nothing else, the
// lockfile naming them, no journal, an empty plan. The lock of the killed
// process died with it (a kernel lock), so nothing stands in the way.
//
// Kill points: half are the n-th request the emulator receives (the
// process dies while that request is served, so its write commits and the
// answer is lost, with the other requests in flight wherever they are);
// half are a random delay into the run (anywhere: reading the YAML,
// planning, between writes, inside a journal append or the final lockfile
// rewrite). At least 50 kills land before the process finishes.
func TestKill9ThenPlainApply(t *testing.T) {
	t.Parallel()
	const minKills = 50
	rng := rand.New(rand.NewPCG(12, 3))

	// Calibrate: how many requests and how long a whole apply takes
	// (after the binary is built).
	jobsyncBin(t)
	cal := newWorld(t, worldOptions{jobs: killJobs, examples: true})
	start := time.Now()
	cal.finish(t)
	dur := time.Since(start)
	total := len(cal.emu.Requests())
	t.Logf("a whole apply: %d requests, %v", total, dur.Round(time.Millisecond))

	var kills, byRequest, byTimer, finishedFirst, lockFilesLeft, journalsLeft, leasesTaken int
	for round := 0; kills < minKills; round++ {
		if round >= 3*minKills {
			t.Fatalf("after %d rounds only %d kills landed mid-apply", round, kills)
		}
		w := newWorld(t, worldOptions{jobs: killJobs, examples: true})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := w.applyCmd(ctx, t)
		var proc atomic.Pointer[os.Process]
		var killed atomic.Bool
		var once sync.Once
		kill := func() {
			once.Do(func() {
				killed.Store(true)
				if p := proc.Load(); p != nil {
					_ = p.Kill()
				}
			})
		}
		timer := round%2 == 1
		if !timer {
			target := int32(1 + rng.IntN(total))
			var n atomic.Int32
			observe := func(*http.Request) {
				if n.Add(1) == target {
					kill()
				}
			}
			w.gate.observe.Store(&observe)
		}
		must(t, cmd.Start())
		proc.Store(cmd.Process)
		if killed.Load() {
			_ = cmd.Process.Kill()
		}
		var tm *time.Timer
		if timer {
			tm = time.AfterFunc(time.Duration(rng.Int64N(int64(dur))), kill)
		}
		err := cmd.Wait()
		if tm != nil {
			tm.Stop()
		}
		cancel()
		w.gate.observe.Store(nil)
		// Whatever the dead process had in flight is served to the end
		// (as a real workspace would) before the next apply starts.
		w.gate.settle()
		if !killed.Load() {
			if err != nil {
				t.Fatalf("round %d: apply failed before its kill point: %v", round, err)
			}
			finishedFirst++
			continue
		}
		kills++
		if timer {
			byTimer++
		} else {
			byRequest++
		}
		if _, err := os.Lstat(w.lock + ".lock"); err == nil {
			lockFilesLeft++
		}
		if _, err := os.Lstat(w.lock + ".journal"); err == nil {
			journalsLeft++
		}
		if strings.Contains(w.finish(t), "Took over the workspace lease") {
			leasesTaken++
		}
		if t.Failed() {
			t.Fatalf("round %d (%s): not converged", round, map[bool]string{true: "timer", false: "request"}[timer])
		}
	}
	t.Logf("kills: %d (at a request %d, by timer %d); runs that finished before their kill point: %d", kills, byRequest, byTimer, finishedFirst)
	t.Logf("left behind by the killed runs: %d lock files (taken over by the next apply, no unlock), %d journals (replayed), %d workspace leases (taken over at once: their process was gone)",
		lockFilesLeft, journalsLeft, leasesTaken)
	fileRow(t, row{Fault: fmt.Sprintf("`kill -9` of `jobsync apply --auto-approve` at %d instants (%d at the n-th request, %d at a random time)", kills, byRequest, byTimer),
		Behaviour: fmt.Sprintf("the same command run again, with no unlock and no flag, converges every time with exactly the declared jobs; the killed runs left %d lock files (blocking nothing: the kernel lock died with them), %d journals (replayed) and %d workspace leases (taken over at once with a notice: their holder's process was gone from this machine)", lockFilesLeft, journalsLeft, leasesTaken),
		Sees:      "nothing (the next apply succeeds)", Injected: kills})
}
