package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
)

var keyPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

func importCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "adopt an existing job under a key of the YAML (tagging it as this project's), and show what the next apply would change",
		ArgsUsage: "KEY JOB_ID [PATH...]",
		Flags: append(workspaceFlags(),
			&cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for another apply's lock"}),
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) < 2 {
				return usageError("import takes a job key and a job id: jobsync import KEY JOB_ID [PATH...]")
			}
			key := args[0]
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id <= 0 {
				return usageError(fmt.Sprintf("job id %q is not a positive integer", args[1]))
			}
			cfg, err := loadConfig(c, e)
			if err != nil {
				return err
			}
			if cfg.Job(key) == nil {
				proj, _ := resolveProject(c, e, "text")
				return fmt.Errorf("no job %q in the YAML under %s: write its YAML first (jobsync export %d prints a starting point)", key, strings.Join(proj.paths, ", "), id)
			}
			w, st, err := openLocked(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			imp, err := applier.Import(c.Context, w.client, st, applier.ImportInput{
				Workspace: w.name, Project: w.project, Key: key, JobID: id, Configured: true,
			})
			if err != nil {
				return err
			}
			if imp.Tagged {
				fmt.Fprintf(e.out, "Tagged job %d with %s=%s and imported it as %s.\n\n", id, planner.OwnerTagKey, imp.Tag, key)
			} else {
				fmt.Fprintf(e.out, "Imported job %d as %s (it already carried the tag %s=%s).\n\n", id, key, planner.OwnerTagKey, imp.Tag)
			}
			plan, err := planWith(c.Context, e, w, st.File(), cfg.Jobs, planOptions{only: []string{key}}, c.Int("parallelism"))
			if err != nil {
				return err
			}
			if plan.Empty() {
				fmt.Fprintln(e.out, "The job already matches its YAML: the next apply changes nothing.")
				return nil
			}
			fmt.Fprintln(e.out, "The next apply will make these changes:")
			return render.Text(e.out, plan, render.Options{Color: useColor(e)})
		},
	}
}

func exportCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write YAML for live jobs (server defaults left out)",
		ArgsUsage: "[JOB_ID...]",
		Description: `Prints a jobs: file for the given job ids, or with --all for every job of the workspace.
Jobs jobsync already manages keep their keys, so a plan after export shows no changes;
for other jobs, adopt them with the jobsync import commands that export prints on stderr.`,
		Flags: append(workspaceFlags(),
			&cli.BoolFlag{Name: "all", Usage: "export every job of the workspace"},
			&cli.StringFlag{Name: "out", Usage: "write to `FILE` instead of stdout"},
		),
		Action: func(c *cli.Context) error {
			if c.Bool("all") == (c.NArg() > 0) {
				return usageError("export takes job ids, or --all (not both)")
			}
			var ids []int64
			for _, a := range c.Args().Slice() {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil || id <= 0 {
					return usageError(fmt.Sprintf("job id %q is not a positive integer", a))
				}
				ids = append(ids, id)
			}
			w, err := openWorkspace(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			if c.Bool("all") {
				list, err := w.client.ListJobs(c.Context, jobsapi.ListJobsOptions{})
				if err != nil {
					return err
				}
				for _, j := range list {
					ids = append(ids, j.JobID)
				}
			}
			jobs := map[string]any{}
			var hints []string
			for _, id := range ids {
				j, err := w.client.GetJob(c.Context, id)
				if jobsapi.IsNotFound(err) {
					return fmt.Errorf("job %d does not exist in %s", id, w.name)
				}
				if err != nil {
					return err
				}
				settings := planner.ForExport(j.Settings)
				key, owned := planner.OwnedKey(w.project, j.Settings)
				if !owned {
					key = uniqueKey(jobs, slug(settings["name"], id))
					hints = append(hints, fmt.Sprintf("jobsync import %s %d", key, id))
				}
				jobs[key] = yamlValue(settings)
			}
			out, err := marshalYAML(map[string]any{"jobs": jobs})
			if err != nil {
				return err
			}
			if path := c.String("out"); path != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := writeFileAtomic(path, out, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(e.err, "Wrote %s to %s.\n", plural(len(jobs), "job", "jobs"), path)
			} else if _, err := e.out.Write(out); err != nil {
				return err
			}
			if len(hints) > 0 {
				sort.Strings(hints)
				fmt.Fprintf(e.err, "To let jobsync manage the exported jobs it does not manage yet, save the YAML and run:\n  %s\n", strings.Join(hints, "\n  "))
			}
			return nil
		},
	}
}

// yamlValue turns json.Number into YAML numbers (yaml.v3 would quote them).
func yamlValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = yamlValue(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = yamlValue(x)
		}
		return s
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	}
	return v
}

// marshalYAML writes YAML a person would write: two-space indent, and in
// each mapping the identifying keys first (name, task_key, ...), then the
// rest in alphabetical order, with tasks last.
func marshalYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(yamlNode(v)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var keyRank = map[string]int{
	"name": -6, "task_key": -5, "job_cluster_key": -4, "environment_key": -3, "description": -2, "tasks": 1,
}

func yamlNode(v any) *yaml.Node {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keyRank[keys[i]] != keyRank[keys[j]] {
				return keyRank[keys[i]] < keyRank[keys[j]]
			}
			return keys[i] < keys[j]
		})
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, yamlNode(t[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, x := range t {
			n.Content = append(n.Content, yamlNode(x))
		}
		return n
	}
	if str, ok := v.(string); ok {
		// A live value that happens to contain "${var." must read back as
		// itself, not as a variable of the project file.
		v = strings.ReplaceAll(str, "${var.", "$${var.")
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(v)}
	}
	return &n
}

var nonKey = regexp.MustCompile(`[^a-z0-9_-]+`)

func slug(name any, id int64) string {
	s, _ := name.(string)
	s = strings.Trim(nonKey.ReplaceAllString(strings.ToLower(s), "_"), "_-")
	if s == "" {
		s = fmt.Sprintf("job_%d", id)
	}
	return s
}

func uniqueKey(taken map[string]any, key string) string {
	if _, ok := taken[key]; !ok {
		return key
	}
	for i := 2; ; i++ {
		k := fmt.Sprintf("%s_%d", key, i)
		if _, ok := taken[k]; !ok {
			return k
		}
	}
}
