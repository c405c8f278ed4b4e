package state

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	if le.Owner == nil || le.Owner.PID != os.Getpid() || le.Owner.Host != hostname() || le.Owner.ID == "" || le.Owner.Started.IsZero() {
		t.Errorf("owner %+v", le.Owner)
	}
	for _, want := range []string{fmt.Sprintf("pid %d on %s", os.Getpid(), hostname()), "--lock-timeout", "even if it is killed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	owner, held, err := LockHolder(path)
	if err != nil || !held || owner == nil || owner.PID != os.Getpid() {
		t.Errorf("LockHolder = %+v, %v, %v", owner, held, err)
	}
	must(t, unlock())
	must(t, unlock()) // twice is fine
	if _, err := os.Lstat(LockPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file still there after unlock: %v", err)
	}
	if _, held, err := LockHolder(path); held || err != nil {
		t.Errorf("LockHolder after unlock = %v, %v", held, err)
	}
	unlock, err = Lock(ctx, path, 0)
	must(t, err)
	must(t, unlock())
}

// Many goroutines take and release the lock in turns: never two at once.
// This is the race of a holder removing the file while a waiter has it
// open: the waiter must notice that it locked a removed file.
func TestLockMutualExclusion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	var inside, entries atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				unlock, err := Lock(ctx, path, 30*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				entries.Add(1)
				time.Sleep(100 * time.Microsecond)
				inside.Add(-1)
				if err := unlock(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if entries.Load() != 180 {
		t.Errorf("%d entries, want 180", entries.Load())
	}
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

// A lock file left behind, by a killed process or empty, blocks nobody.
func TestLockFileLeftBehind(t *testing.T) {
	for name, content := range map[string]string{
		"empty":     "",
		"garbage":   "\x00\x00 not json",
		"dead":      `{"id":"x","pid":999999,"host":"ci-runner-7","user":"ci","started":"2026-01-02T03:04:05Z","command":"jobsync apply"}`,
		"this host": fmt.Sprintf(`{"id":"x","pid":%d,"host":%q,"user":"ci","started":"2026-01-02T03:04:05Z","command":"jobsync apply"}`, os.Getpid(), hostname()),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jobsync.lock.json")
			writeLock(t, path, content)
			if _, held, err := LockHolder(path); held || err != nil {
				t.Errorf("LockHolder = %v, %v", held, err)
			}
			writeLock(t, path, content)
			unlock, err := Lock(context.Background(), path, 0)
			if err != nil {
				t.Fatalf("a lock file nobody holds blocked Lock: %v", err)
			}
			b, err := os.ReadFile(LockPath(path))
			must(t, err)
			var info LockInfo
			if err := json.Unmarshal(b, &info); err != nil || info.PID != os.Getpid() || info.ID == "" {
				t.Errorf("the lock file does not describe the new holder: %q", b)
			}
			must(t, unlock())
		})
	}
}

// The lock file is written to, so it must be the lock file: a link would
// aim the write at the file it points to, a FIFO would hang a reader.
func TestLockFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "precious.txt")
	must(t, os.WriteFile(victim, []byte("keep me\n"), 0o644))
	link := filepath.Join(dir, "link.json")
	must(t, os.Symlink(victim, LockPath(link)))
	_, err := Lock(context.Background(), link, 0)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("Lock through a symlinked lock file: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("the link's target was written: %q", b)
	}

	dirLock := filepath.Join(dir, "dir.json")
	must(t, os.Mkdir(LockPath(dirLock), 0o755))
	if _, err := Lock(context.Background(), dirLock, 0); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("Lock with a directory as lock file: %v", err)
	}
}

// Two processes: the child holds the lock, the parent is refused with the
// child's pid; once the child is SIGKILLed, the parent takes the lock at
// once, without anyone breaking it. A parent already waiting gets it too.
func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobsync.lock.json")
	hold := func() (*exec.Cmd, io.WriteCloser) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "STATE_TEST_HOLD_LOCK="+path)
		stdin, err := cmd.StdinPipe()
		must(t, err)
		stdout, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "locked\n" {
			t.Fatalf("child: %q %v", line, err)
		}
		return cmd, stdin
	}

	cmd, _ := hold()
	_, err := Lock(context.Background(), path, 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Owner == nil || le.Owner.PID != cmd.Process.Pid || le.Owner.Command == "" {
		t.Fatalf("want a lock held by pid %d, got %v", cmd.Process.Pid, err)
	}
	must(t, cmd.Process.Kill())
	_ = cmd.Wait()
	if _, err := os.Stat(LockPath(path)); err != nil {
		t.Fatalf("the killed child's lock file should still be there (that is the point): %v", err)
	}
	unlock, err := Lock(context.Background(), path, 0)
	if err != nil {
		t.Fatalf("after SIGKILL of the holder: %v", err)
	}
	must(t, unlock())

	// A waiter gets the lock when the holder is killed.
	cmd, _ = hold()
	got := make(chan error, 1)
	go func() {
		u, err := Lock(context.Background(), path, time.Minute)
		if err == nil {
			err = u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it start waiting; correctness does not depend on it
	must(t, cmd.Process.Kill())
	must(t, <-got)

	// The clean path: a child that exits normally removes its lock file.
	cmd, stdin := hold()
	stdin.Close()
	must(t, cmd.Wait())
	if _, err := os.Lstat(LockPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file left by a clean exit: %v", err)
	}
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
