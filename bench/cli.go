package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// CLI is a jobsync binary built from the repository, run as a child process
// so that its peak RSS and CPU are its own (the emulator stays in the
// harness, like a remote workspace).
type CLI struct {
	Bin string
	// Home is an empty HOME, so no ~/.databrickscfg of the machine leaks in.
	Home string
	// Env is added to the child's environment (e.g. GODEBUG=gctrace=1
	// when investigating its memory).
	Env []string
}

// BuildCLI builds the jobsync binary of the module at repo into dir.
func BuildCLI(ctx context.Context, repo, dir string) (*CLI, error) {
	bin := filepath.Join(dir, "jobsync")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	return &CLI{Bin: bin, Home: home}, nil
}

// FindRepo walks up from the working directory to the directory holding
// go.mod.
func FindRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from inside the jobsync repository")
		}
		dir = parent
	}
}

// CLIRun is the outcome of one child run.
type CLIRun struct {
	Sample
	Code           int
	Stdout, Stderr string
}

// Run runs the CLI in workdir against the workspace at host with token,
// with a minimal, explicit environment.
func (c *CLI) Run(ctx context.Context, workdir, host, token string, args ...string) (CLIRun, error) {
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	cmd.Dir = workdir
	cmd.Env = []string{
		"HOME=" + c.Home,
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + os.TempDir(),
		"NO_COLOR=1",
		"DATABRICKS_HOST=" + host,
		"DATABRICKS_TOKEN=" + token,
	}
	cmd.Env = append(cmd.Env, c.Env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return CLIRun{}, err
	}
	hwm := watchHWM(cmd.Process.Pid)
	err := cmd.Wait()
	r := CLIRun{Stdout: out.String(), Stderr: errb.String()}
	r.Wall = time.Since(start)
	peak := hwm()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		return r, err
	}
	if ps := cmd.ProcessState; ps != nil {
		r.RSSKB, r.CPU = usage(ps)
	}
	if peak > 0 {
		r.RSSKB = peak
	}
	return r, nil
}

// watchHWM polls the child's VmHWM (peak RSS) in /proc every few
// milliseconds until the returned function is called, which returns the
// highest value seen in KiB (0 without /proc).
//
// getrusage cannot be used on Linux: a child's ru_maxrss includes the RSS of
// the process that exec'd it (the kernel folds the old mm's high-water mark
// in at exec, and Go's fork/exec runs on the parent's mm), so it reports the
// harness with its 10,000-job emulator. VmHWM belongs to the new mm only.
// Polling may miss growth in the child's last few milliseconds; the peak
// of a plan is reached well before it exits (while rendering, the live jobs
// are already garbage).
func watchHWM(pid int) func() int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	stop := make(chan struct{})
	done := make(chan int64)
	go func() {
		var peak int64
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if v := readHWM(path); v > peak {
				peak = v
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		return <-done
	}
}

func readHWM(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}
