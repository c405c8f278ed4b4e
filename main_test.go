package main

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/jobsync/jobsync/emulator"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from the actual output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"jobsync": func() {
			os.Exit(run(context.Background(), os.Args, stdio{os.Stdin, os.Stdout, os.Stderr}, os.Getenv))
		},
		// A stand-in for the GitHub CLI, for the CI recipe (ci_recipe_test.go).
		"gh": func() { os.Exit(fakeGH()) },
	})
}

// TestGolden runs the end-to-end CLI scenarios in testdata/golden against
// the built-in emulator. Run with -update to rewrite their expected output,
// and read the diff before committing it.
//
// Besides testscript's own commands, scenarios have:
//
//	exitcode N PROG ARGS...  run PROG and require exit code N
//	serve-emulator VAR       serve a fresh emulator on loopback for the rest
//	                         of the script; VAR is set to its URL
//	serve-entra VAR          serve a stand-in for Entra ID's v1 token
//	                         endpoint (tenant "tenant-1", client "sp-app",
//	                         secret "sp-secret"); VAR is set to its URL
//	api [-C DIR] METHOD PATH [JSON]
//	                         send a raw request to the emulator state in
//	                         DIR/.jobsync/ (DIR: the project directory, default
//	                         .): a change "outside jobsync"; prints the answer
func TestGolden(t *testing.T) {
	examples, err := filepath.Abs("examples/jobs")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/golden",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("JOBSYNC_EMULATOR_RUN_TIME", "400ms")
			// The examples are copied in so that paths in output are
			// relative and the same on every machine.
			if err := copyDir(examples, filepath.Join(env.WorkDir, "examples", "jobs")); err != nil {
				return err
			}
			return copyDir(filepath.Join(filepath.Dir(examples), "bundles"), filepath.Join(env.WorkDir, "examples", "bundles"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":       cmdExitCode,
			"api":            cmdAPI,
			"serve-emulator": cmdServeEmulator,
			"serve-entra":    cmdServeEntra,
		},
	})
}

func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

func cmdAPI(ts *testscript.TestScript, neg bool, args []string) {
	dir := "."
	if len(args) > 2 && args[0] == "-C" {
		dir, args = args[1], args[2:]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: api [-C PROJECTDIR] METHOD PATH [JSON]")
	}
	d, err := emulatorPrincipals(ts.MkAbs(dir))
	ts.Check(err)
	srv, err := emulator.New(emulator.Options{DataFile: ts.MkAbs(filepath.Join(dir, emulatorDir, "emulator.json")), Directory: d})
	ts.Check(err)
	defer func() { ts.Check(srv.Close()) }()
	body := ""
	if len(args) == 3 {
		body = args[2]
	}
	req := httptest.NewRequest(args[0], args[1], strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer emulator")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	ts.Stdout().Write(rec.Body.Bytes())
	failed := rec.Code >= 400
	if failed != neg {
		ts.Fatalf("api %s %s: HTTP %d: %s", args[0], args[1], rec.Code, rec.Body.String())
	}
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			// A state directory left by the README's first command
			// (examples/jobs/.jobsync) is not part of the examples: a
			// scenario starts from what git tracks.
			if d.Name() == ".jobsync" {
				return filepath.SkipDir
			}
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

func cmdServeEmulator(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve-emulator VAR")
	}
	emu, err := emulator.New(emulator.Options{})
	ts.Check(err)
	srv := httptest.NewServer(emu)
	ts.Defer(func() { srv.Close(); _ = emu.Close() })
	ts.Setenv(args[0], srv.URL)
}

func cmdServeEntra(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve-entra VAR")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		if r.URL.Path != "/tenant-1/oauth2/token" || f.Get("client_id") != "sp-app" || f.Get("client_secret") != "sp-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}`))
			return
		}
		_, _ = w.Write([]byte(`{"token_type": "Bearer", "expires_in": "3599", "access_token": "entra-token-for-` + strings.Trim(f.Get("resource"), "/:") + `"}`))
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}
