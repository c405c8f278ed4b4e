package reliability

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jobsync/jobsync/bench"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
)

// TestSecretNeverShown runs a full life cycle through the jobsync binary
// with --debug — validate, plan with a saved plan file, apply of that file,
// plan in every format, drift, state, export, an error whose server message
// echoes the token, a refused token, destroy — and looks for the token in
// every byte it printed or wrote.
func TestSecretNeverShown(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{jobs: 3, examples: true})
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := "dapi" + hex.EncodeToString(b[:])
	var sent atomic.Int64
	observe := func(r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+token {
			sent.Add(1)
		}
	}
	w.gate.observe.Store(&observe)
	jobs := filepath.Join(w.dir, "jobs")
	lock := filepath.Join(w.dir, "jobsync.lock.json")
	planFile := filepath.Join(w.dir, "plan.json")
	common := []string{"--debug", "--project", project, "--lockfile", lock}
	run := func(want int, args ...string) cliResult {
		t.Helper()
		r := runCLI(t, cli{args: args, dir: w.dir, env: []string{"DATABRICKS_HOST=" + w.srv.URL, "DATABRICKS_TOKEN=" + token}})
		if r.code != want {
			t.Fatalf("jobsync %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, want, tail(r.stderr, 3000))
		}
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if strings.Contains(out, token) || strings.Contains(out, token[4:20]) {
				t.Errorf("jobsync %s: the token appears on %s", strings.Join(args, " "), name)
			}
		}
		return r
	}
	cmd := func(name string, rest ...string) []string {
		return append(append([]string{name}, common...), rest...)
	}
	run(0, "validate", jobs)
	run(0, cmd("plan", "--out", planFile, jobs)...)
	r := run(0, cmd("apply", planFile)...)
	if !strings.Contains(r.stderr, "jobsapi:") {
		t.Errorf("--debug logged no request on stderr:\n%s", tail(r.stderr, 500))
	}
	run(0, cmd("plan", "--format", "json", jobs)...)
	run(0, cmd("plan", "--format", "markdown", jobs)...)
	run(0, append([]string{"drift"}, append(common, jobs)...)...)
	run(0, "state", "list", "--lockfile", lock)
	run(0, "state", "show", "--lockfile", lock, "etl_daily")
	run(0, append([]string{"export", "--all"}, common[:1]...)...)
	// The server echoes the credential in an error message.
	w.emu.InjectFault(emulator.Fault{Status: http.StatusBadRequest, ErrorCode: "INVALID_PARAMETER_VALUE",
		Message: "Malformed header Authorization: Bearer " + token, Count: 1})
	r = run(1, cmd("plan", jobs)...)
	if !strings.Contains(r.stderr, "Malformed header") {
		t.Errorf("the echoing error was not shown at all:\n%s", tail(r.stderr, 500))
	}
	w.gate.deny(http.StatusUnauthorized)
	run(1, cmd("plan", jobs)...)
	w.gate.clear()
	run(0, cmd("destroy", "--auto-approve", jobs)...)

	if sent.Load() == 0 {
		t.Fatal("the token was never sent: the test proves nothing")
	}
	// Every file the runs left behind: plan file, lockfile, journal,
	// exports, the emulator's state, HOME.
	files := 0
	err := filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), token) {
			t.Errorf("the token is written in %s", path)
		}
		return nil
	})
	must(t, err)
	if files < 3 {
		t.Errorf("only %d files to check: the scenario wrote less than expected", files)
	}
}

func TestPrivateFiles(t *testing.T) {
	t.Parallel()
	// The lockfile and the saved plan hold request bodies (which may carry
	// secrets in task parameters): only their owner may read them.
	w := newWorld(t, worldOptions{jobs: 3})
	jobs := filepath.Join(w.dir, "jobs")
	lock := filepath.Join(w.dir, "jobsync.lock.json")
	planFile := filepath.Join(w.dir, "plan.json")
	env := []string{"DATABRICKS_HOST=" + w.srv.URL, "DATABRICKS_TOKEN=dapi-x"}
	for _, args := range [][]string{
		{"plan", "--project", project, "--lockfile", lock, "--out", planFile, jobs},
		{"apply", "--project", project, "--lockfile", lock, planFile},
	} {
		if r := runCLI(t, cli{args: args, dir: w.dir, env: env}); r.code != 0 {
			t.Fatalf("jobsync %s: %s", args[0], r)
		}
	}
	for _, f := range []string{lock, planFile} {
		fi, err := os.Stat(f)
		must(t, err)
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others can read it", filepath.Base(f), fi.Mode().Perm())
		}
	}
}

func TestTLSVerifiedByDefault(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(emulator.Options{})
	must(t, err)
	srv := httptest.NewTLSServer(emu) // a self-signed certificate
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, jobsapi.Options{})
	_, err = c.ListJobs(context.Background(), jobsapi.ListJobsOptions{})
	if err == nil {
		t.Fatal("a client with default options accepted a self-signed certificate")
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("the error does not say the certificate is the problem: %v", err)
	}
	if n := c.Stats().Requests; n > 1 {
		t.Errorf("%d attempts: a certificate failure is not worth retrying", n)
	}
	if got := emu.RequestCount(); got != 0 {
		t.Errorf("the emulator served %d requests over an unverified connection", got)
	}
	// Through the CLI, with the user's view of it.
	dir := oneJobDir(t)
	r := runCLI(t, cli{args: []string{"plan", "--lockfile", filepath.Join(dir, "l.json"), dir}, dir: dir,
		env: []string{"DATABRICKS_HOST=" + srv.URL, "DATABRICKS_TOKEN=dapi-x"}})
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("jobsync plan against a self-signed certificate: %s", r)
	}
}

func TestPlainHTTPOnlyForLoopback(t *testing.T) {
	t.Parallel()
	for host, ok := range map[string]bool{
		"http://127.0.0.1:8089":             true,
		"http://127.1.2.3":                  true,
		"http://localhost:8089":             true,
		"http://[::1]:8089":                 true,
		"https://adb-1.azuredatabricks.net": true,
		"http://adb-1.azuredatabricks.net":  false,
		"http://10.0.0.7":                   false,
		"http://192.168.1.10:8089":          false,
		"http://localhost.example.com":      false,
		"http://127.0.0.1.nip.io":           false,
		"http://[::ffff:10.0.0.7]":          false,
		"HTTP://EXAMPLE.COM":                false,
	} {
		_, err := jobsapi.New(jobsapi.Config{Host: host, Token: "dapi-x", AuthType: jobsapi.AuthTypePAT}, jobsapi.Options{})
		if ok != (err == nil) {
			t.Errorf("jobsapi.New(%s): %v; want accepted=%v", host, err, ok)
		}
		if err != nil && strings.Contains(err.Error(), "dapi-x") {
			t.Errorf("jobsapi.New(%s): the error shows the token", host)
		}
	}
	dir := oneJobDir(t)
	r := runCLI(t, cli{args: []string{"plan", "--lockfile", filepath.Join(dir, "l.json"), dir}, dir: dir,
		env: []string{"DATABRICKS_HOST=http://adb-1.azuredatabricks.net", "DATABRICKS_TOKEN=dapi-x"}})
	if r.code != 1 || !strings.Contains(r.stderr, "http://") || strings.Contains(r.stderr, "dapi-x") {
		t.Errorf("jobsync plan against a plain-http remote host: %s", r)
	}
}

// oneJobDir is a directory holding the YAML of one job.
func oneJobDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, err := (bench.Workload{Jobs: 1, Tasks: 3}).WriteYAML(dir)
	must(t, err)
	return dir
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
