package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
)

// TestConvergenceBundles applies every example bundle, unchanged, with each
// of its targets (the default one first) against the emulator, the current
// user read from its SCIM /Me: after the apply a fresh plan is empty and a
// second apply writes nothing; no job in the workspace holds a ${...} or a
// relative path, and every workspace path a job names exists there.
func TestConvergenceBundles(t *testing.T) {
	dirs, err := filepath.Glob("examples/bundles/*/databricks.yml")
	if err != nil || len(dirs) < 2 {
		t.Fatalf("want at least two example bundles, found %v (%v)", dirs, err)
	}
	for _, root := range dirs {
		dir := filepath.Dir(root)
		p, err := schema.LoadProject(context.Background(), root)
		if err != nil {
			t.Fatalf("%s: %v", root, err)
		}
		targets := []string{""}
		for _, tg := range p.Targets {
			if tg != p.Default {
				targets = append(targets, tg.Name)
			}
		}
		for _, target := range targets {
			name := filepath.Base(dir) + "/" + target
			if target == "" {
				name += "default"
			}
			t.Run(name, func(t *testing.T) {
				sel, err := schema.Select(p, target, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				project := p.Name + "/" + sel.Target.Name
				w := newConvWorld(t, project, principalsIn(t, dir))
				me, err := w.client.Me(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := schema.LoadWith(context.Background(), []string{dir}, schema.Options{
					Selection: sel, Identity: &schema.Identity{UserName: me.UserName, DisplayName: me.DisplayName, ID: me.ID},
					Host: convWorkspace,
				})
				if err != nil {
					t.Fatalf("loading %s: %v", dir, err)
				}
				if len(cfg.Uploads) == 0 {
					t.Fatal("an example bundle without local files proves nothing about uploads")
				}
				in := planner.Input{Desired: cfg.Jobs, Project: project, Uploads: cfg.Uploads, FilesRoot: cfg.Paths.Files}
				w.converge(in)
				checkBundleWorkspace(t, w.client, cfg)
			})
		}
	}
}

// pathFields are the settings that name a file or folder.
var pathFields = map[string]bool{"notebook_path": true, "python_file": true, "path": true, "project_directory": true, "whl": true, "jar": true, "requirements": true}

func checkBundleWorkspace(t *testing.T, c *jobsapi.Client, cfg *schema.Config) {
	t.Helper()
	ctx := context.Background()
	jobs, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{ExpandTasks: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != len(cfg.Jobs) {
		t.Errorf("%d jobs in the workspace, %d in the bundle", len(jobs), len(cfg.Jobs))
	}
	checked := 0
	for _, j := range jobs {
		full, err := c.GetJob(ctx, j.JobID)
		if err != nil {
			t.Fatal(err)
		}
		walkJSON(full.Settings, "", func(field, s string) {
			if strings.Contains(s, "${") {
				t.Errorf("job %d: %s holds %q", j.JobID, field, s)
			}
			isPath := pathFields[field] || field == "dependencies" && (strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "-r "))
			if !isPath {
				return
			}
			p := strings.TrimPrefix(s, "-r ")
			if !strings.HasPrefix(p, "/") {
				t.Errorf("job %d: %s is the relative path %q", j.JobID, field, s)
				return
			}
			if _, err := c.GetStatus(ctx, p); err != nil {
				t.Errorf("job %d: %s names %s, which is not in the workspace: %v", j.JobID, field, p, err)
			}
			checked++
		})
	}
	if checked == 0 {
		t.Error("no job names a workspace path")
	}
	for _, u := range cfg.Uploads {
		info, err := c.GetStatus(ctx, u.Remote)
		if err != nil {
			t.Errorf("upload %s: %v", u.Name, err)
			continue
		}
		want := jobsapi.ObjectFile
		if u.Notebook {
			want = jobsapi.ObjectNotebook
		}
		if info.ObjectType != want {
			t.Errorf("upload %s is a %s in the workspace, want %s", u.Name, info.ObjectType, want)
		}
		if !u.Notebook {
			data, err := c.Export(ctx, u.Remote, jobsapi.FormatAuto)
			local, rerr := os.ReadFile(u.Local)
			if err != nil || rerr != nil || string(data) != string(local) {
				t.Errorf("upload %s: the workspace holds other content (%v %v)", u.Name, err, rerr)
			}
		}
	}
}

// walkJSON calls fn for every string in v with the name of the field (or,
// for a list element, the list) it is in.
func walkJSON(v any, field string, fn func(field, s string)) {
	switch x := v.(type) {
	case string:
		fn(field, x)
	case []any:
		for _, e := range x {
			walkJSON(e, field, fn)
		}
	case map[string]any:
		for k, e := range x {
			walkJSON(e, k, fn)
		}
	}
}
