package applier

import (
	"context"
	"encoding/json"
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

// editLockFiles hand-edits the committed lockfile's "files", as anyone with
// the repository can: entries are added as they are written here.
func (e *env) editLockFiles(add map[string]string) {
	e.t.Helper()
	data, err := os.ReadFile(e.lockPath)
	if err != nil {
		e.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		e.t.Fatal(err)
	}
	files, _ := doc["files"].(map[string]any)
	if files == nil {
		files = map[string]any{}
	}
	for p, src := range add {
		files[p] = map[string]any{"digest": "sha256:edited", "size": 1, "source": src}
	}
	doc["files"] = files
	if data, err = json.MarshalIndent(doc, "", "  "); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.lockPath, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// --prune and destroy delete only files the lockfile records inside the
// target's files folder. A hand-edited lockfile naming someone else's file
// (or "/", or a path climbing out of the folder with "..") makes the plan
// fail before anything is deleted, and so does a plan that does not know
// the folder; a saved plan edited to delete or overwrite outside the
// folder, or a file the lockfile does not record, is refused at apply.
func TestFilesOutsideRootAreNeverDeleted(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ctx := context.Background()
	const foreign = "/Workspace/Users/someone/else.py"
	const foreignDir = "/Workspace/Users/someone/empty"
	if err := e.client.Mkdirs(ctx, foreignDir); err != nil {
		t.Fatal(err)
	}
	if err := e.client.ImportFile(ctx, foreign, []byte("theirs\n"), false); err != nil {
		t.Fatal(err)
	}
	ups := localFiles(t, map[string]string{"src/a.py": "a\n", "c.txt": "c\n"})
	var a, c schema.Upload
	for _, u := range ups {
		if u.Name == "c.txt" {
			c = u
		} else {
			a = u
		}
	}
	if _, err := e.apply(ctx, e.planFiles([]*schema.Job{fileJob("j", ups...)}, ups, false, false), Options{}); err != nil {
		t.Fatal(err)
	}
	theirsIntact := func() {
		t.Helper()
		got, err := e.client.Export(ctx, foreign, jobsapi.FormatAuto)
		if err != nil || string(got) != "theirs\n" {
			t.Fatalf("someone else's file: %q, %v", got, err)
		}
		if _, err := e.client.GetStatus(ctx, foreignDir); err != nil {
			t.Fatalf("someone else's empty folder: %v", err)
		}
	}

	// A saved prune plan made before the lockfile was edited, to be edited
	// itself below.
	desired := []*schema.Job{fileJob("j", c)}
	valid := e.planFiles(desired, []schema.Upload{c}, true, false)
	if n := ops(valid)[planner.OpDeleteFile]; n != 1 {
		t.Fatalf("prune plan deletes %d files, want 1 (src/a.py)", n)
	}

	e.editLockFiles(map[string]string{
		foreign:    "else.py",
		foreignDir: "empty",
		"/":        "root",
		testFiles + "/../../../../../someone/else.py": "climb",
	})
	live, err := readLive(ctx, e.client)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		prune, destroy bool
		root           string
		want           string
	}{
		{"prune", true, false, testFiles, "outside this target's files folder"},
		{"destroy", false, true, testFiles, "outside this target's files folder"},
		{"destroy without the configuration", false, true, "", "does not know the target's files folder"},
		{"prune under a root of /Workspace", true, false, "/Workspace", "too wide"},
	} {
		in := planner.Input{Desired: desired, Live: live, Lock: e.store().File(), Project: testProject, Workspace: e.client.Host(),
			Prune: tc.prune, Destroy: tc.destroy, Now: time.Unix(0, 0), Uploads: []schema.Upload{c}, FilesRoot: tc.root}
		if tc.destroy {
			in.Desired, in.Uploads = nil, nil
		}
		p, err := planner.Build(in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), foreign) {
			t.Errorf("%s: plan %v, error %v; want the error to say %q and name %s", tc.name, p != nil, err, tc.want, foreign)
		}
	}
	// Without --prune nothing is deleted, and the plan says the entries
	// are left.
	p := e.planFiles(desired, []schema.Upload{c}, false, false)
	if n := ops(p)[planner.OpDeleteFile]; n != 0 {
		t.Errorf("a plan without --prune deletes %d files", n)
	}

	// The saved plan, edited: its delete aimed at the foreign file (which
	// the edited lockfile records), at a file nobody recorded, or with a
	// root of "/" that would take the foreign folder along.
	edits := map[string]func(*planner.Action){
		"recorded foreign file": func(a *planner.Action) { a.Key, a.File.Path = foreign, foreign },
		"unrecorded file":       func(a *planner.Action) { a.File.Path = testFiles + "/unrecorded.py" },
		"root of /":             func(a *planner.Action) { a.Key, a.File.Path, a.File.Root = foreign, foreign, "/" },
		"climbing path":         func(a *planner.Action) { a.File.Path = testFiles + "/../../../../../someone/else.py" },
	}
	for name, edit := range edits {
		doctored := *valid
		doctored.Actions = nil
		for _, act := range valid.Actions {
			if act.Op == planner.OpDeleteFile {
				f := *act.File
				act.File = &f
				edit(&act)
			}
			doctored.Actions = append(doctored.Actions, act)
		}
		if _, err := e.apply(ctx, &doctored, Options{}); err == nil || !strings.Contains(err.Error(), "damaged or was edited") {
			t.Errorf("%s: apply of the edited plan: %v", name, err)
		}
		theirsIntact()
	}
	// And an upload edited to overwrite the foreign file.
	up := e.planFiles([]*schema.Job{fileJob("j", ups...)}, []schema.Upload{a, localFiles(t, map[string]string{"c.txt": "changed\n"})[0]}, false, false)
	for i := range up.Actions {
		if up.Actions[i].Op == planner.OpUpload {
			f := *up.Actions[i].File
			f.Path = foreign
			up.Actions[i].File = &f
		}
	}
	if _, err := e.apply(ctx, up, Options{}); err == nil || !strings.Contains(err.Error(), "outside its files folder") {
		t.Errorf("apply of an upload edited to overwrite %s: %v", foreign, err)
	}
	theirsIntact()
	if _, err := e.client.GetStatus(ctx, a.Remote); err != nil {
		t.Errorf("our own file went: %v", err)
	}
}
