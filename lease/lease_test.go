package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/internal/emutest"
	"github.com/jobsync/jobsync/jobsapi"
)

const root = "/Workspace/Users/user@example.com/.jobsync/shop/prod"

var leasePath = Path(root)

func start(t *testing.T) (*emulator.Server, *jobsapi.Client) {
	t.Helper()
	return emutest.Start(t, emulator.Options{}, jobsapi.Options{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, RetryTimeout: 5 * time.Second})
}

func opts(ttl, wait time.Duration, notices *notes) Options {
	o := Options{Path: leasePath, TTL: ttl, Wait: wait, Holder: Holder{Command: "jobsync apply", Scope: "shop/prod", Lineage: "lin-1"}}
	if notices != nil {
		o.Notice = notices.add
	}
	return o
}

type notes struct {
	mu   sync.Mutex
	list []string
}

func (n *notes) add(s string) { n.mu.Lock(); n.list = append(n.list, s); n.mu.Unlock() }
func (n *notes) all() string  { n.mu.Lock(); defer n.mu.Unlock(); return strings.Join(n.list, "\n") }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// plant writes a lease file as another holder would have.
func plant(t *testing.T, c *jobsapi.Client, h Holder) {
	t.Helper()
	ctx := context.Background()
	must(t, c.Mkdirs(ctx, root+"/state"))
	must(t, c.ImportFile(ctx, leasePath, encode(&h), true))
}

func TestAcquireAndRelease(t *testing.T) {
	ctx := context.Background()
	emu, c := start(t)
	lctx, l, err := Acquire(ctx, c, opts(time.Minute, 0, nil))
	must(t, err)
	h, err := Read(ctx, c, leasePath)
	must(t, err)
	if h.ID != l.Holder().ID || h.PID != os.Getpid() || h.Command != "jobsync apply" || h.Scope != "shop/prod" ||
		h.Lineage != "lin-1" || h.Host == "" || h.User == "" || h.Lease != 1 ||
		h.Expires.Sub(h.Acquired) != time.Minute {
		t.Errorf("lease content %+v", h)
	}
	// Created without overwrite: the one create two takers cannot both win.
	var creates []emulator.Request
	for _, r := range emu.Requests() {
		if strings.HasSuffix(r.Path, "/state/jobsync.lock") && r.Method == "POST" {
			creates = append(creates, r)
		}
	}
	if len(creates) < 1 || creates[len(creates)-1].Query != "overwrite=false" {
		t.Errorf("lease writes %+v", creates)
	}
	must(t, l.Release(ctx))
	must(t, l.Release(ctx)) // twice is fine
	if _, err := Read(ctx, c, leasePath); !errors.Is(err, jobsapi.ErrNotFound) {
		t.Errorf("lease still there after release: %v", err)
	}
	if context.Cause(lctx) != errReleased {
		t.Errorf("the lease's context after release: %v", context.Cause(lctx))
	}
	_, l, err = Acquire(ctx, c, opts(time.Minute, 0, nil))
	must(t, err)
	must(t, l.Release(ctx))
}

// A live holder makes the next one wait up to its timeout, then fail naming
// the holder; released in time, the waiter gets it.
func TestLiveHolderWaitsThenFails(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	_, first, err := Acquire(ctx, c, opts(2*time.Second, 0, nil))
	must(t, err)

	var n notes
	_, _, err = Acquire(ctx, c, opts(2*time.Second, 300*time.Millisecond, &n))
	var he *HeldError
	if !errors.As(err, &he) || he.Holder == nil || he.Holder.ID != first.Holder().ID || he.Waited < 300*time.Millisecond {
		t.Fatalf("want a HeldError naming the first holder after waiting, got %v", err)
	}
	for _, want := range []string{fmt.Sprintf("pid %d on %s", os.Getpid(), hostname()), `running "jobsync apply" for shop/prod`,
		"--lock-timeout", "expires by itself", "jobsync state unlock", leasePath} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if !strings.Contains(n.all(), "Waiting up to") {
		t.Errorf("no notice of the wait: %q", n.all())
	}
	if _, _, err := Acquire(ctx, c, opts(2*time.Second, 0, nil)); !errors.As(err, &he) || he.Waited != 0 {
		t.Errorf("no wait: %v", err)
	}

	got := make(chan error, 1)
	go func() {
		_, l, err := Acquire(ctx, c, opts(2*time.Second, 10*time.Second, nil))
		if err == nil {
			err = l.Release(ctx)
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	must(t, first.Release(ctx))
	must(t, <-got)
}

// A lease whose holder stopped renewing it is taken over after its expiry,
// with a notice; before it, it is live.
func TestExpiredLeaseTakenOver(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	crashed := Holder{Lease: 1, ID: "dead", Host: "ci-runner-7", PID: 4242, User: "runner", Command: "jobsync apply",
		Acquired: time.Now().Add(-3 * time.Minute), Expires: time.Now().Add(-time.Minute)}
	plant(t, c, crashed)
	var n notes
	_, l, err := Acquire(ctx, c, opts(2*time.Second, 0, &n))
	if err != nil {
		t.Fatalf("an expired lease was not taken over: %v", err)
	}
	if !strings.Contains(n.all(), "Took over the workspace lease") || !strings.Contains(n.all(), "pid 4242 on ci-runner-7") ||
		!strings.Contains(n.all(), "expired at") {
		t.Errorf("notice %q", n.all())
	}
	if h, _ := Read(ctx, c, leasePath); h == nil || h.ID != l.Holder().ID {
		t.Errorf("after the takeover the lease is %+v", h)
	}
	must(t, l.Release(ctx))

	// Not yet expired, on another machine: live.
	crashed.Expires = time.Now().Add(time.Minute)
	plant(t, c, crashed)
	var he *HeldError
	if _, _, err := Acquire(ctx, c, opts(2*time.Second, 0, nil)); !errors.As(err, &he) {
		t.Errorf("a live lease of another machine: %v", err)
	}
}

// A lease of a process of this machine that no longer runs is taken over
// at once: the next apply after a kill -9 needs no wait.
func TestCrashedHolderOnThisMachine(t *testing.T) {
	if machineID() == "" {
		t.Skip("no machine id on this platform: leases are judged by their expiry alone")
	}
	ctx := context.Background()
	_, c := start(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	must(t, cmd.Run())
	dead := cmd.Process.Pid
	h := Holder{Lease: 1, ID: "x", Host: hostname(), Machine: machineID(), PID: dead, Command: "jobsync apply",
		Acquired: time.Now(), Expires: time.Now().Add(time.Hour)}
	plant(t, c, h)
	var n notes
	_, l, err := Acquire(ctx, c, opts(2*time.Second, 0, &n))
	if err != nil {
		t.Fatalf("the lease of a dead process of this machine: %v", err)
	}
	if !strings.Contains(n.all(), "no longer running on this machine") {
		t.Errorf("notice %q", n.all())
	}
	must(t, l.Release(ctx))

	// The same pid on another machine (or another pid namespace) means
	// nothing here: live until it expires.
	for _, other := range []Holder{{Host: "elsewhere", Machine: machineID()}, {Host: hostname(), Machine: "other-boot/pid:[1]"}, {Host: hostname()}} {
		other.Lease, other.ID, other.PID, other.Acquired, other.Expires = 1, "y", dead, time.Now(), time.Now().Add(time.Hour)
		plant(t, c, other)
		var he *HeldError
		if _, _, err := Acquire(ctx, c, opts(2*time.Second, 0, nil)); !errors.As(err, &he) {
			t.Errorf("host %q machine %q: %v", other.Host, other.Machine, err)
		}
	}
	// A live process of this machine holds it.
	h.PID = os.Getpid()
	plant(t, c, h)
	var he *HeldError
	if _, _, err := Acquire(ctx, c, opts(2*time.Second, 0, nil)); !errors.As(err, &he) {
		t.Errorf("a live process's lease: %v", err)
	}
}

// The holder renews: a lease older than its TTL is still live.
func TestRenewalKeepsTheLease(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	const ttl = 400 * time.Millisecond
	lctx, l, err := Acquire(ctx, c, opts(ttl, 0, nil))
	must(t, err)
	time.Sleep(3 * ttl)
	var he *HeldError
	if _, _, err := Acquire(ctx, c, opts(ttl, 0, nil)); !errors.As(err, &he) {
		t.Fatalf("a renewed lease was taken: %v", err)
	}
	if lctx.Err() != nil {
		t.Fatalf("the holder's context ended: %v", context.Cause(lctx))
	}
	if h, _ := Read(ctx, c, leasePath); h == nil || !h.Expires.After(time.Now()) {
		t.Errorf("not renewed: %+v", h)
	}
	must(t, l.Release(ctx))
}

// A holder whose lease is removed or taken over is told through its
// context, and leaves the new holder's lease alone.
func TestLostLease(t *testing.T) {
	ctx := context.Background()
	const ttl = 400 * time.Millisecond
	for _, how := range []string{"broken", "taken over", "garbage"} {
		t.Run(how, func(t *testing.T) {
			_, c := start(t)
			lctx, l, err := Acquire(ctx, c, opts(ttl, 0, nil))
			must(t, err)
			other := Holder{Lease: 1, ID: "other", Host: "ci-runner-9", PID: 7, Command: "jobsync apply", Acquired: time.Now(), Expires: time.Now().Add(time.Hour)}
			switch how {
			case "broken":
				if h, err := Break(ctx, c, leasePath); err != nil || h.ID != l.Holder().ID {
					t.Fatalf("Break = %+v, %v", h, err)
				}
			case "taken over":
				plant(t, c, other)
			case "garbage":
				must(t, c.ImportFile(ctx, leasePath, []byte("not json"), true))
			}
			select {
			case <-lctx.Done():
			case <-time.After(5 * ttl):
				t.Fatal("the holder was not told")
			}
			var lost *LostError
			if !errors.As(context.Cause(lctx), &lost) {
				t.Fatalf("cause %v", context.Cause(lctx))
			}
			want := map[string]string{"broken": "it was removed", "taken over": "taken over by pid 7 on ci-runner-9", "garbage": "not a jobsync lease"}[how]
			if !strings.Contains(lost.Error(), want) || !strings.Contains(lost.Error(), "stopped") {
				t.Errorf("cause %q lacks %q", lost, want)
			}
			err = l.Release(ctx)
			if how == "taken over" {
				if err == nil || !strings.Contains(err.Error(), "left in place") {
					t.Errorf("release of a lease taken over: %v", err)
				}
				if h, _ := Read(ctx, c, leasePath); h == nil || h.ID != "other" {
					t.Errorf("the new holder's lease was removed: %+v", h)
				}
			} else if err != nil {
				t.Errorf("release: %v", err)
			}
		})
	}
}

// A holder that cannot renew stops before its lease expires, so that a
// taker never finds it still writing.
func TestRenewalFailsStopsBeforeExpiry(t *testing.T) {
	ctx := context.Background()
	emu, c := start(t)
	const ttl = 800 * time.Millisecond
	lctx, l, err := Acquire(ctx, c, opts(ttl, 0, nil))
	must(t, err)
	expires := l.Holder().Expires
	emu.InjectFault(emulator.Fault{Endpoint: "workspace/export", Status: 403, ErrorCode: "PERMISSION_DENIED", Message: "no", Count: 1000})
	select {
	case <-lctx.Done():
	case <-time.After(5 * ttl):
		t.Fatal("the holder was not told")
	}
	var lost *LostError
	if !errors.As(context.Cause(lctx), &lost) || !strings.Contains(lost.Error(), "could not be renewed") {
		t.Fatalf("cause %v", context.Cause(lctx))
	}
	if stopped := time.Now(); !stopped.Before(expires) {
		t.Errorf("told at %v, after the expiry %v", stopped, expires)
	}
	_ = l.Release(ctx)
}

// Takers racing for one expired lease: at every moment at most one holds
// it, and each gets it in turn.
func TestTakersRace(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	plant(t, c, Holder{Lease: 1, ID: "dead", Host: "gone", PID: 1, Acquired: time.Now().Add(-time.Hour), Expires: time.Now().Add(-time.Minute)})
	const takers = 6
	var inside, max, done atomic.Int32
	var wg sync.WaitGroup
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The TTL is long enough that no live holder expires on a
			// loaded machine: the race under test is the takeover of the
			// planted dead lease and the hand-over between live ones.
			_, l, err := Acquire(ctx, c, opts(5*time.Second, 60*time.Second, nil))
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := max.Load(); n > m && !max.CompareAndSwap(m, n); m = max.Load() {
			}
			time.Sleep(30 * time.Millisecond)
			inside.Add(-1)
			if err := l.Release(ctx); err != nil {
				t.Error(err)
			}
			done.Add(1)
		}()
	}
	wg.Wait()
	if max.Load() != 1 || done.Load() != takers {
		t.Errorf("at most %d holders at once (want 1); %d of %d got it", max.Load(), done.Load(), takers)
	}
}

// A file at the lease's path that is not a lease is never taken over
// silently: it holds the lease until someone removes it.
func TestUnreadableLease(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	must(t, c.Mkdirs(ctx, root+"/state"))
	must(t, c.ImportFile(ctx, leasePath, []byte("{}"), true))
	_, _, err := Acquire(ctx, c, opts(time.Minute, 0, nil))
	var he *HeldError
	if !errors.As(err, &he) || he.Holder != nil || !strings.Contains(err.Error(), "not one jobsync can read") ||
		!strings.Contains(err.Error(), "jobsync state unlock") {
		t.Fatalf("got %v", err)
	}
	if h, err := Break(ctx, c, leasePath); h != nil || err != nil {
		t.Errorf("Break = %+v, %v", h, err)
	}
	_, l, err := Acquire(ctx, c, opts(time.Minute, 0, nil))
	must(t, err)
	must(t, l.Release(ctx))
}

// A create whose answer is lost after the workspace made the file: the
// lease is read back and found to be this holder's.
func TestAmbiguousCreate(t *testing.T) {
	ctx := context.Background()
	emu, c := start(t)
	must(t, c.Mkdirs(ctx, root+"/state"))
	emu.InjectFault(emulator.Fault{Method: "POST", Endpoint: "workspace-files/import-file", DropAfterCommit: true})
	_, l, err := Acquire(ctx, c, opts(time.Minute, 0, nil))
	if err != nil {
		t.Fatalf("a create that landed without an answer: %v", err)
	}
	must(t, l.Release(ctx))
}

// Without write access to the folder, the message says the three ways out.
func TestNoAccess(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	// A file where the state folder should be.
	must(t, c.Mkdirs(ctx, root))
	must(t, c.ImportFile(ctx, root+"/state", []byte("x"), true))
	_, _, err := Acquire(ctx, c, opts(time.Minute, 0, nil))
	if err == nil {
		t.Fatal("acquired")
	}
	for _, want := range []string{"cannot take the workspace lease " + leasePath, "workspace.root_path", "--lock=false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestHolderJSON(t *testing.T) {
	h := Holder{Lease: 1, ID: "a", Host: "h", PID: 3, User: "u", Command: "jobsync apply", Lineage: "l",
		Acquired: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Expires: time.Date(2026, 1, 2, 3, 6, 5, 0, time.UTC)}
	var back Holder
	must(t, json.Unmarshal(encode(&h), &back))
	if back != h {
		t.Errorf("round trip %+v", back)
	}
	for _, key := range []string{`"id"`, `"host"`, `"pid"`, `"user"`, `"command"`, `"lineage"`, `"acquired"`, `"expires"`} {
		if !strings.Contains(string(encode(&h)), key) {
			t.Errorf("no %s in %s", key, encode(&h))
		}
	}
}
