package state

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The helper process of TestLockAcrossProcesses: it takes the lock, says so
// on stdout, and holds it until its stdin closes (or it is killed).
func TestMain(m *testing.M) {
	if path := os.Getenv("STATE_TEST_HOLD_LOCK"); path != "" {
		unlock, err := Lock(context.Background(), path, 0)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		if err := unlock(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv("STATE_TEST_READONLY_DIR"); dir != "" {
		os.Exit(readOnlyChild(dir))
	}
	os.Exit(m.Run())
}

func TestLockExclusive(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	unlock, err := Lock(ctx, path, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(ctx, path, 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: want *LockedError, got %v", err)
	}
	if le.Owner == nil || le.Owner.PID != os.Getpid() || le.Owner.Host != hostname() || le.Stale {
		t.Errorf("owner %+v stale %v", le.Owner, le.Stale)
	}
	for _, want := range []string{fmt.Sprintf("pid %d on %s", os.Getpid(), hostname()), "still running", "jobsync state unlock", "--lock-timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	info, err := ReadLockInfo(path)
	if err != nil || info.PID != os.Getpid() || info.Started.IsZero() || info.ID == "" {
		t.Errorf("ReadLockInfo = %+v, %v", info, err)
	}
	must(t, unlock())
	must(t, unlock()) // twice is fine
	if _, err := ReadLockInfo(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock still there after unlock: %v", err)
	}
	unlock, err = Lock(ctx, path, 0)
	must(t, err)
	must(t, unlock())
}

func TestLockRaceBetweenGoroutines(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	for round := range 20 {
		var wins, losses atomic.Int32
		var unlocks sync.Map
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlock, err := Lock(ctx, path, 0)
				var le *LockedError
				switch {
				case err == nil:
					wins.Add(1)
					unlocks.Store(g, unlock)
				case errors.As(err, &le):
					losses.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || losses.Load() != 7 {
			t.Fatalf("round %d: %d winners, %d losers; want 1 and 7", round, wins.Load(), losses.Load())
		}
		unlocks.Range(func(_, v any) bool { must(t, v.(func() error)()); return true })
	}
}

// A waiting Lock gets the lock once the holder lets go.
func TestLockWaits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	unlock, err := Lock(ctx, path, 0)
	must(t, err)
	got := make(chan error, 1)
	go func() {
		u, err := Lock(ctx, path, time.Minute)
		if err == nil {
			err = u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it start waiting; correctness does not depend on it
	must(t, unlock())
	must(t, <-got)
}

func TestLockTimeoutAndCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	unlock, err := Lock(context.Background(), path, 0)
	must(t, err)
	defer unlock()

	_, err = Lock(context.Background(), path, 10*time.Millisecond)
	var le *LockedError
	if !errors.As(err, &le) || le.Waited <= 0 || !strings.Contains(err.Error(), "waited") {
		t.Errorf("timed-out Lock = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	if _, err := Lock(ctx, path, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Lock = %v, want context.Canceled", err)
	}
}

// A lock left by a process that no longer exists is reported stale.
func TestStaleLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	must(t, cmd.Run())
	dead := cmd.Process.Pid // exited and reaped: no process has this pid now (barring reuse)
	writeLock(t, path, fmt.Sprintf(`{"id":"x","pid":%d,"host":%q,"user":"ci","started":"2026-01-02T03:04:05Z","command":"jobsync apply"}`, dead, hostname()))

	_, err := Lock(context.Background(), path, 0)
	var le *LockedError
	if !errors.As(err, &le) || !le.Stale {
		t.Fatalf("want a stale *LockedError, got %v", err)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", dead), "(user ci)", `"jobsync apply"`, "since 2026-01-02T03:04:05Z", "no longer running", "jobsync state unlock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	must(t, BreakLock(path))
	unlock, err := Lock(context.Background(), path, 0)
	must(t, err)
	must(t, unlock())
}

// A lock from another machine cannot be judged: it is reported with both
// ways out, and never called stale.
func TestLockFromAnotherHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	writeLock(t, path, `{"id":"x","pid":1,"host":"ci-runner-7","user":"ci","started":"2026-01-02T03:04:05Z","command":"jobsync apply"}`)
	_, err := Lock(context.Background(), path, 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Stale {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"pid 1 on ci-runner-7", "if that apply is still running, wait", "jobsync state unlock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestLockUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	writeLock(t, path, "")
	_, err := Lock(context.Background(), path, 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Owner != nil || !strings.Contains(err.Error(), "unknown owner") ||
		!strings.Contains(err.Error(), "jobsync state unlock") {
		t.Errorf("got %v", err)
	}
}

// Unlock never removes a lock that was broken and taken by someone else.
func TestUnlockAfterBreak(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	first, err := Lock(context.Background(), path, 0)
	must(t, err)
	must(t, BreakLock(path))
	second, err := Lock(context.Background(), path, 0)
	must(t, err)
	if err := first(); err == nil || !strings.Contains(err.Error(), "was broken") {
		t.Errorf("unlock of a broken lock = %v", err)
	}
	if _, err := ReadLockInfo(path); err != nil {
		t.Errorf("the second holder's lock was removed: %v", err)
	}
	must(t, second())
	if err := BreakLock(path); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "is not locked") {
		t.Errorf("BreakLock of no lock = %v", err)
	}
}

// Two processes: the child holds the lock, the parent is refused with the
// child's pid and a live owner; once the child is SIGKILLed the lock is
// reported stale, and breaking it lets the parent in.
func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STATE_TEST_HOLD_LOCK="+path)
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child: %q %v", line, err)
	}

	_, err = Lock(context.Background(), path, 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Owner == nil || le.Owner.PID != cmd.Process.Pid || le.Stale {
		t.Fatalf("want a live lock of pid %d, got %v", cmd.Process.Pid, err)
	}

	// A clean exit of the child releases the lock ...
	// ... but a SIGKILL leaves it behind.
	must(t, cmd.Process.Kill())
	_ = cmd.Wait()
	stdin.Close()
	_, err = Lock(context.Background(), path, 0)
	if !errors.As(err, &le) || !le.Stale {
		t.Fatalf("after SIGKILL want a stale lock, got %v", err)
	}
	must(t, BreakLock(path))
	unlock, err := Lock(context.Background(), path, 0)
	must(t, err)
	must(t, unlock())

	// The clean path: a child that exits normally releases its lock.
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STATE_TEST_HOLD_LOCK="+path)
	stdin, _ = cmd.StdinPipe()
	stdout, _ = cmd.StdoutPipe()
	must(t, cmd.Start())
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("child: %q", line)
	}
	stdin.Close()
	must(t, cmd.Wait())
	unlock, err = Lock(context.Background(), path, 0)
	must(t, err)
	must(t, unlock())
}

func TestCommandName(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"/usr/bin/jobsync", "apply", "--auto-approve", "plan.json"}, "jobsync apply"},
		{[]string{"jobsync", "state", "rm", "etl"}, "jobsync state rm"},
		{[]string{"jobsync", "--token=secret", "apply"}, "jobsync"},
		{nil, ""},
	} {
		if got := commandName(tt.args); got != tt.want {
			t.Errorf("commandName(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func writeLock(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(LockPath(path), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
