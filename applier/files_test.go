package applier

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
)

const testFiles = "/Workspace/Users/u/.jobsync/proj/test/files"

// localFiles writes files into a temp dir and returns them as uploads.
func localFiles(t *testing.T, files map[string]string) []schema.Upload {
	t.Helper()
	dir := t.TempDir()
	var out []schema.Upload
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		u := schema.Upload{Local: p, Name: name, Remote: testFiles + "/" + name, Size: int64(len(body))}
		if strings.HasPrefix(body, "# Databricks notebook source") {
			u.Notebook, u.Language = true, "PYTHON"
			u.Remote = strings.TrimSuffix(u.Remote, ".py")
		}
		u.Digest = schema.FileDigest(u.Notebook, u.Language, u.Jupyter, []byte(body))
		out = append(out, u)
	}
	return out
}

func fileJob(key string, uploads ...schema.Upload) *schema.Job {
	j := job(key)
	for _, u := range uploads {
		j.Files = append(j.Files, u.Remote)
	}
	task := j.Settings["tasks"].([]any)[0].(map[string]any)
	task["notebook_task"] = map[string]any{"notebook_path": uploads[0].Remote}
	return j
}

func (e *env) planFiles(desired []*schema.Job, uploads []schema.Upload, prune, destroy bool) *planner.Plan {
	e.t.Helper()
	ctx := context.Background()
	st := e.store()
	live, err := readLive(ctx, e.client)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := planner.Build(planner.Input{
		Desired: desired, Live: live, Lock: st.File(), Project: testProject, Workspace: e.client.Host(),
		Prune: prune, Destroy: destroy, Now: time.Unix(0, 0), Uploads: uploads, FilesRoot: testFiles,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func ops(p *planner.Plan) map[planner.Op]int { return p.Counts() }

// An upload is recorded only once the workspace took it: a failed one
// leaves no record, holds back the job writes that name it, and is made
// by the next apply; an unchanged file is never sent again; a file whose
// content changed after the plan is refused.
func TestUploadsAreCrashSafe(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ctx := context.Background()
	ups := localFiles(t, map[string]string{
		"src/nb.py":   "# Databricks notebook source\nprint(1)\n",
		"src/main.py": "print('main')\n",
		"dist/x.whl":  "stand-in",
	})
	var nb, mainPy, whl schema.Upload
	for _, u := range ups {
		switch u.Name {
		case "src/nb.py":
			nb = u
		case "src/main.py":
			mainPy = u
		default:
			whl = u
		}
	}
	desired := []*schema.Job{fileJob("a", nb, whl), fileJob("b", mainPy)}
	// The workspace refuses main.py once, with an answer that leaves no
	// doubt (so the client does not retry it).
	refused := false
	f := aroundFunc(func(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc) {
		if strings.Contains(r.URL.Path, "import-file") && strings.HasSuffix(r.URL.Path, "main.py") && !refused {
			refused = true
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error_code":"INVALID_PARAMETER_VALUE","message":"refused by the test"}`))
			return
		}
		serve(w, r)
	})
	e.around.Store(&f)
	p := e.planFiles(desired, ups, false, false)
	if c := ops(p); c[planner.OpUpload] != 3 || c[planner.OpCreate] != 2 {
		t.Fatalf("first plan %v", c)
	}
	res, err := e.apply(ctx, p, Options{Parallelism: 1})
	if err == nil {
		t.Fatal("the refused upload did not fail the apply")
	}
	lock := e.lock()
	if _, ok := lock.Files[mainPy.Remote]; ok {
		t.Error("the refused upload was recorded")
	}
	if _, ok := lock.Jobs["b"]; ok {
		t.Error("job b, which names the refused file, was created anyway")
	}
	t.Logf("first apply: %+v", res)
	e.around.Store(nil)

	if _, ok := lock.Files[whl.Remote]; !ok {
		t.Error("the upload that was made is not recorded")
	}
	// The next plan sends what was not recorded (main.py, and nb, which
	// the failure kept from starting), never the wheel again.
	p = e.planFiles(desired, ups, false, false)
	if c := ops(p); c[planner.OpUpload] != 2 || p.Actions[0].Key != mainPy.Remote || p.Actions[1].Key != nb.Remote {
		t.Fatalf("the next plan should upload main.py and nb, got %v %v", c, p.Actions)
	}
	if _, err := e.apply(ctx, p, Options{}); err != nil {
		t.Fatal(err)
	}
	e.emu.ResetRequests()
	p = e.planFiles(desired, ups, false, false)
	if !p.Empty() {
		t.Fatalf("plan after apply is not empty: %v", ops(p))
	}
	if got := requestsTo(e.emu, http.MethodPost, "/api/2.0/workspace"); len(got) != 0 {
		t.Errorf("a plan wrote to the workspace: %v", got)
	}
	info, err := e.client.GetStatus(ctx, nb.Remote)
	if err != nil || info.ObjectType != jobsapi.ObjectNotebook || info.Language != "PYTHON" {
		t.Errorf("the notebook is %+v (%v)", info, err)
	}

	// A file that changes after the plan is refused at apply.
	if err := os.WriteFile(mainPy.Local, []byte("print('changed')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := localFiles(t, map[string]string{"src/main.py": "print('changed')\n"})[0]
	changed.Local = mainPy.Local
	p = e.planFiles(desired, []schema.Upload{nb, changed, whl}, false, false)
	if err := os.WriteFile(mainPy.Local, []byte("print('changed again')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = e.apply(ctx, p, Options{})
	if err == nil || !strings.Contains(err.Error(), "src/main.py changed since the plan was made") {
		t.Errorf("apply of a file changed since the plan: %v", err)
	}
	if e.lock().Files[mainPy.Remote].Digest != mainPy.Digest {
		t.Error("the refused upload changed the record")
	}
}

// --prune removes the files no job names any more, and the folders they
// leave empty under the root; destroy removes every file.
func TestDeleteFiles(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ctx := context.Background()
	ups := localFiles(t, map[string]string{"src/a.py": "a\n", "src/deep/b.py": "b\n", "c.txt": "c\n"})
	desired := []*schema.Job{fileJob("j", ups...)}
	if _, err := e.apply(ctx, e.planFiles(desired, ups, false, false), Options{}); err != nil {
		t.Fatal(err)
	}
	var keep schema.Upload
	for _, u := range ups {
		if u.Name == "c.txt" {
			keep = u
		}
	}
	desired = []*schema.Job{fileJob("j", keep)}
	p := e.planFiles(desired, []schema.Upload{keep}, false, false)
	if c := ops(p); c[planner.OpDeleteFile] != 0 || len(p.Skipped) != 2 {
		t.Fatalf("without --prune: %v, %d skipped", c, len(p.Skipped))
	}
	p = e.planFiles(desired, []schema.Upload{keep}, true, false)
	if c := ops(p); c[planner.OpDeleteFile] != 2 {
		t.Fatalf("with --prune: %v", c)
	}
	if _, err := e.apply(ctx, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetStatus(ctx, testFiles+"/src"); !jobsapi.IsNotFound(err) {
		t.Errorf("the emptied folder src is still there: %v", err)
	}
	if _, err := e.client.GetStatus(ctx, keep.Remote); err != nil {
		t.Errorf("the kept file is gone: %v", err)
	}
	if len(e.lock().Files) != 1 {
		t.Errorf("lockfile files %v", e.lock().Files)
	}
	p = e.planFiles(nil, nil, false, true)
	if _, err := e.apply(ctx, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetStatus(ctx, testFiles); !jobsapi.IsNotFound(err) {
		t.Errorf("destroy left the files folder: %v", err)
	}
	if l := e.lock(); len(l.Files) != 0 || len(l.Jobs) != 0 {
		t.Errorf("after destroy the lockfile holds %v %v", l.Files, l.Jobs)
	}
}
