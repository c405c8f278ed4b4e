package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
)

// driftReport is what `jobsync drift` finds: the workspace compared with
// what jobsync last applied (not with the YAML, which may have moved on).
type driftReport struct {
	Workspace string                 `json:"workspace"`
	Project   string                 `json:"project"`
	Changed   []driftJob             `json:"changed"`
	Deleted   []driftJob             `json:"deleted_outside"`
	Unmanaged []unmanaged            `json:"unmanaged"`
	Refresh   *planner.RefreshReport `json:"refresh,omitempty"`
}

type driftJob struct {
	Key     string        `json:"key"`
	JobID   int64         `json:"job_id"`
	Changes []driftChange `json:"changes,omitempty"`
}

type driftChange struct {
	Path    string `json:"path"`
	Applied any    `json:"applied,omitempty"`
	Live    any    `json:"live,omitempty"`
}

type unmanaged struct {
	JobID int64  `json:"job_id"`
	Name  string `json:"name"`
	Owner string `json:"owner,omitempty"` // the jobsync tag of another project
}

func (r *driftReport) found() bool { return len(r.Changed)+len(r.Deleted) > 0 }

func driftCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "drift",
		Usage: "report what changed in the workspace outside jobsync since the last apply",
		Description: `Compares every managed job with what the lockfile says jobsync last applied, lists
managed jobs deleted outside jobsync, and inventories the workspace's unmanaged jobs.
Exit codes: 0 no drift, 3 drift found, 1 error.`,
		Flags: append(workspaceFlags(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, json or markdown"},
		),
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if format != "text" && format != "json" && format != "markdown" {
				return usageError(fmt.Sprintf("unknown --format %q: want text, json or markdown", format))
			}
			w, err := openWorkspace(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			st, err := openState(c.Context, w)
			if err != nil {
				return err
			}
			lock := st.File()
			if lock == nil || len(lock.Jobs) == 0 {
				return fmt.Errorf("no lockfile at %s (or it manages no jobs): drift compares the workspace with the last apply, so run jobsync apply first", w.lockPath)
			}
			// The last apply, replayed as if it were the YAML: the plan
			// from it to the workspace is exactly the drift.
			var desired []*schema.Job
			for _, key := range sortedKeys(lock.Jobs) {
				j := lock.Jobs[key]
				applied, err := j.AppliedSettings()
				if err != nil {
					return fmt.Errorf("%s: job %q: %v; remove the entry (jobsync state rm %s) and apply again", w.lockPath, key, err, key)
				}
				dj := schema.NewJob(key, w.lockPath, planner.AsConfiguration(applied), nil)
				// The grants jobsync last set, in the mode it set them:
				// in additive mode grants made by others are not drift.
				if j.Permissions != nil {
					perms, err := recordedGrants(j.Permissions)
					if err != nil {
						return fmt.Errorf("%s: job %q: permissions: %v; remove the entry (jobsync state rm %s) and apply again", w.lockPath, key, err, key)
					}
					dj.Permissions, dj.PermissionsMode = perms, j.PermissionsMode
				}
				desired = append(desired, dj)
			}
			plan, live, err := refresh.Plan(c.Context, w.client, planner.Input{
				Desired:     desired,
				Lock:        lock,
				Project:     w.project,
				Workspace:   w.name,
				Now:         time.Now().UTC(),
				ToolVersion: version,
			}, refresh.Options{Strategy: refresh.List, Parallelism: c.Int("parallelism")})
			if err != nil {
				return err
			}
			rep := buildDrift(w, plan, live)
			switch format {
			case "json":
				if err := writeJSON(e, rep); err != nil {
					return err
				}
			case "markdown":
				writeDriftMarkdown(e.out, rep)
			default:
				writeDriftText(e.out, rep)
			}
			if rep.found() {
				return &exitErr{code: exitDrift}
			}
			return nil
		},
	}
}

func buildDrift(w *workspace, plan *planner.Plan, live []planner.Live) *driftReport {
	rep := &driftReport{Workspace: w.name, Project: w.project, Refresh: plan.Refresh,
		Changed: []driftJob{}, Deleted: []driftJob{}, Unmanaged: []unmanaged{}}
	for _, a := range plan.Actions {
		switch a.Op {
		case planner.OpCreate:
			rep.Deleted = append(rep.Deleted, driftJob{Key: a.Key, JobID: a.JobID})
		case planner.OpNoop:
		default:
			dj := driftJob{Key: a.Key, JobID: a.JobID}
			for _, ch := range a.Changes {
				// The plan goes from live to applied, drift from
				// applied to live.
				dj.Changes = append(dj.Changes, driftChange{Path: ch.Path, Applied: ch.After, Live: ch.Before})
			}
			rep.Changed = append(rep.Changed, dj)
		}
	}
	for _, l := range live {
		if _, ours := l.OwnedKey(w.project); ours {
			continue
		}
		u := unmanaged{JobID: l.JobID}
		// List reads keep settings as JSON; unreadable ones still list
		// the job, by id.
		settings, _ := l.Decoded()
		if n, ok := settings["name"].(string); ok {
			u.Name = n
		}
		if tags, ok := settings["tags"].(map[string]any); ok {
			if t, ok := tags[planner.OwnerTagKey].(string); ok {
				u.Owner = t
			}
		}
		rep.Unmanaged = append(rep.Unmanaged, u)
	}
	sort.Slice(rep.Unmanaged, func(i, j int) bool { return rep.Unmanaged[i].JobID < rep.Unmanaged[j].JobID })
	return rep
}

func writeDriftText(w io.Writer, r *driftReport) {
	if !r.found() {
		fmt.Fprintf(w, "No drift: every managed job matches the last apply.\n")
	} else {
		fmt.Fprintf(w, "Drift: %s changed outside jobsync, %s deleted outside jobsync.\n",
			plural(len(r.Changed), "job", "jobs"), plural(len(r.Deleted), "job", "jobs"))
	}
	for _, j := range r.Changed {
		fmt.Fprintf(w, "\n~ %s [job %d] changed outside jobsync\n", j.Key, j.JobID)
		for _, ch := range j.Changes {
			fmt.Fprintf(w, "    %s: %s → %s\n", ch.Path, short(ch.Applied), short(ch.Live))
		}
	}
	for _, j := range r.Deleted {
		fmt.Fprintf(w, "\n- %s [job %d] deleted outside jobsync (the next apply creates it again)\n", j.Key, j.JobID)
	}
	if len(r.Unmanaged) > 0 {
		fmt.Fprintf(w, "\nUnmanaged jobs in the workspace (%d): jobsync never changes these.\n", len(r.Unmanaged))
		for _, u := range r.Unmanaged {
			owner := ""
			if u.Owner != "" {
				owner = " (managed by " + u.Owner + ")"
			}
			fmt.Fprintf(w, "    %d  %s%s\n", u.JobID, u.Name, owner)
		}
	}
}

func writeDriftMarkdown(w io.Writer, r *driftReport) {
	fmt.Fprintf(w, "### jobsync drift report for `%s`\n\n", r.Workspace)
	if !r.found() {
		fmt.Fprintf(w, "No drift: every managed job matches the last apply.\n")
	} else {
		fmt.Fprintf(w, "**%s changed, %s deleted outside jobsync.**\n",
			plural(len(r.Changed), "job", "jobs"), plural(len(r.Deleted), "job", "jobs"))
	}
	for _, j := range r.Changed {
		fmt.Fprintf(w, "\n<details><summary><code>%s</code> (job %d): %s</summary>\n\n| path | last applied | live |\n|---|---|---|\n",
			j.Key, j.JobID, plural(len(j.Changes), "change", "changes"))
		for _, ch := range j.Changes {
			fmt.Fprintf(w, "| `%s` | `%s` | `%s` |\n", ch.Path, mdCell(short(ch.Applied)), mdCell(short(ch.Live)))
		}
		fmt.Fprintf(w, "\n</details>\n")
	}
	for _, j := range r.Deleted {
		fmt.Fprintf(w, "\n- `%s` (job %d) was deleted outside jobsync\n", j.Key, j.JobID)
	}
	if len(r.Unmanaged) > 0 {
		fmt.Fprintf(w, "\n%s in the workspace.\n", plural(len(r.Unmanaged), "unmanaged job", "unmanaged jobs"))
	}
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// short renders a value on one line for drift reports.
func short(v any) string {
	if v == nil {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// recordedGrants reads the grants a lockfile entry records (entries of the
// permissions API's request form).
func recordedGrants(entries []any) ([]schema.Permission, error) {
	b, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	perms := []schema.Permission{}
	if err := json.Unmarshal(b, &perms); err != nil {
		return nil, err
	}
	return perms, nil
}
