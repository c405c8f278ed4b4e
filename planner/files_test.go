package planner_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

const filesRoot = "/Workspace/Users/u/.jobsync/p/dev/files"

func upload(name, digest string, notebook bool) schema.Upload {
	u := schema.Upload{Name: name, Local: name, Remote: filesRoot + "/" + name, Digest: digest, Size: 10, Pos: schema.Pos{File: "resources/a.yml", Line: 3, Col: 5}}
	if notebook {
		u.Notebook, u.Language = true, "PYTHON"
		u.Remote = strings.TrimSuffix(u.Remote, ".py")
	}
	return u
}

func fileJob(key string, files ...string) *schema.Job {
	j := schema.NewJob(key, "resources/a.yml", map[string]any{"name": key}, map[string]schema.Pos{"": {File: "resources/a.yml", Line: 1, Col: 1}})
	j.Files = files
	return j
}

func opsOf(p *planner.Plan) string {
	var out []string
	for _, a := range p.Actions {
		s := string(a.Op) + " " + strings.TrimPrefix(a.Key, filesRoot+"/")
		if len(a.Files) > 0 {
			s += " (after " + strings.Join(a.Files, ",") + ")"
		}
		if a.Reason != "" && (a.Op == planner.OpUpload || a.Op == planner.OpDeleteFile) {
			s += ": " + a.Reason
		}
		out = append(out, s)
	}
	for _, a := range p.Skipped {
		out = append(out, "skip "+string(a.Op)+" "+strings.TrimPrefix(a.Key, filesRoot+"/"))
	}
	return strings.Join(out, "\n")
}

// Uploads are content-addressed: a file whose digest the lockfile records
// at its workspace path is not sent again; the others are, before the
// job writes that name them; a file no job names is deleted with --prune.
func TestPlanFiles(t *testing.T) {
	nb, py := upload("src/nb.py", "sha256:1", true), upload("src/main.py", "sha256:2", false)
	lock := state.New("https://h", "p/dev")
	lock.Files = map[string]state.UploadedFile{
		nb.Remote:              {Digest: "sha256:1", Size: 10, Source: "src/nb.py"},
		py.Remote:              {Digest: "sha256:old", Size: 9, Source: "src/main.py"},
		filesRoot + "/old.sql": {Digest: "sha256:3", Size: 1, Source: "old.sql"},
	}
	in := planner.Input{
		Desired: []*schema.Job{fileJob("a", nb.Remote, py.Remote), fileJob("b", nb.Remote)},
		Lock:    lock, Project: "p/dev", Workspace: "https://h", Now: time.Unix(0, 0),
		Uploads: []schema.Upload{nb, py}, FilesRoot: filesRoot,
	}
	build := func(in planner.Input) *planner.Plan {
		t.Helper()
		p, err := planner.Build(in)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(name string, p *planner.Plan, want string) {
		t.Helper()
		if got := opsOf(p); got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, want)
		}
	}
	check("changed file, jobs new", build(in), `upload src/main.py: changed since the last upload
create a (after `+py.Remote+`)
create b
skip delete-file old.sql`)
	in.Prune = true
	check("prune", build(in), `upload src/main.py: changed since the last upload
create a (after `+py.Remote+`)
create b
delete-file old.sql: no job names it any more`)
	in.Prune = false
	in.LiveFiles = map[string]string{nb.Remote: "FILE"}
	check("the workspace lost main.py and holds a file where nb is", build(in), `upload src/main.py: changed since the last upload
upload src/nb: the workspace holds a FILE there, not this NOTEBOOK
create a (after `+nb.Remote+`,`+py.Remote+`)
create b (after `+nb.Remote+`)
skip delete-file old.sql`)
	in.LiveFiles = nil
	in.Only = []string{"b"}
	check("--only b", build(in), "create b")
	in.Only = nil
	in.Destroy = true
	check("destroy", build(in), `delete-file old.sql: destroy
delete-file src/main.py: destroy
delete-file src/nb: destroy`)
	p := build(in)
	if f := p.Actions[0].File; f == nil || f.Root != filesRoot || f.Name != "old.sql" {
		t.Errorf("delete-file action %+v", f)
	}
	in.Destroy = false
	p = build(in)
	if f := p.Actions[0].File; f.Format != "" || f.Digest != "sha256:2" || f.Local != "src/main.py" || p.Actions[0].Source != "resources/a.yml:3:5" {
		t.Errorf("upload action %+v (source %s)", f, p.Actions[0].Source)
	}
}
