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
}

func (r cliResult) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr
}

func runCLI(t *testing.T, c cli) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.command(ctx, t)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
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
