package reliability

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The jobsync binary, built once per test run from the repository, for the
// tests that must see exactly what a user sees (stdout, stderr, exit code,
// files written).
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func jobsyncBin(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "jobsync-reliability-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "jobsync")
		cmd := exec.Command("go", "build", "-o", built.bin, ".")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = errors.New("go build: " + err.Error() + "\n" + string(out))
			return
		}
		// Readable by the unprivileged user some tests run it as.
		built.err = os.Chmod(built.dir, 0o755)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func removeBinary() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// cli is one run of the jobsync binary.
type cli struct {
	args     []string
	dir      string   // working directory
	env      []string // added to a minimal environment
	asNobody bool     // run as uid/gid 65534 when the tests run as root
}

type cliResult struct {
	stdout, stderr string
	code           int
	// maxRSS is the child's peak resident set in KiB, as getrusage (and
	// /usr/bin/time -v, "Maximum resident set size") reports it.
	maxRSS int64
	wall   time.Duration
}

func (r cliResult) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr
}

func runCLI(t *testing.T, c cli) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.command(ctx, t)
	stats := c.timed(t, cmd)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String(), wall: time.Since(start)}
	switch {
	case stats != "" && (err == nil || errors.As(err, new(*exec.ExitError))):
		r.maxRSS = readTimeStats(t, stats)
	case cmd.ProcessState != nil:
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = maxRSSKiB(ru) // an upper bound, see above
		}
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		if c.asNobody && errors.Is(err, syscall.EPERM) {
			t.Skip("cannot run a child as nobody:", err)
		}
		t.Fatalf("running jobsync: %v", err)
	}
	return r
}

// command is the process of c, not started; ctx kills it.
func (c cli) command(ctx context.Context, t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, jobsyncBin(t), c.args...)
	cmd.Dir = c.dir
	home := t.TempDir()
	cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "NO_COLOR=1", "TMPDIR=" + os.TempDir()}, c.env...)
	if c.asNobody && os.Geteuid() == 0 {
		openUp(t, home)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	return cmd
}

// timed makes cmd run under GNU time, where it is installed, and returns
// the file time writes the peak memory to ("" without GNU time). The
// rusage of a child of this (large) test process would count this
// process's resident set too, since Linux keeps the high-water mark across
// fork and exec; under time it is jobsync's own. Time and jobsync form a
// process group, which the hang guard kills together.
func (c cli) timed(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	if _, err := os.Stat(gnuTime); err != nil {
		return ""
	}
	dir := t.TempDir()
	if c.asNobody && os.Geteuid() == 0 {
		openUp(t, dir)
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	stats := filepath.Join(dir, "time.txt")
	cmd.Args = append([]string{gnuTime, "-f", "%M", "-o", stats, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = gnuTime
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return stats
}

// gnuTime is GNU time, whose -f %M is the maximum resident set in KiB (the
// "Maximum resident set size" of /usr/bin/time -v).
const gnuTime = "/usr/bin/time"

// readTimeStats reads the last line of GNU time's -o file: the peak RSS in
// KiB (a line before it says when the command exited non-zero). 0 when
// time wrote none (it was killed).
func readTimeStats(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	words := strings.Fields(string(data))
	if len(words) == 0 {
		return 0
	}
	n, err := strconv.ParseInt(words[len(words)-1], 10, 64)
	if err != nil {
		t.Fatalf("%s wrote %q", gnuTime, data)
	}
	return n
}

// openUp makes dir and its parents up to the temporary directory
// traversable by everyone, so that a child running as nobody reaches it.
func openUp(t *testing.T, dir string) {
	t.Helper()
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); strings.HasPrefix(d, tmp+string(filepath.Separator)); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o755); err != nil {
			t.Fatal(err)
		}
	}
}
