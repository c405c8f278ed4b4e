package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/state"
)

func explainCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "say why a field of a job is or is not compared, with the rule's evidence (no network)",
		ArgsUsage: "KEY PATH [PATH...]",
		Description: `PATH is a field of job KEY in the plan's path syntax, e.g.
tasks[task_key="load"].new_cluster.spark_conf["spark.sql.shuffle.partitions"].
Prints how jobsync compares it (or why it does not), what the YAML and the
lockfile's record of the last apply hold there, and the rows of the
normalisation table that apply, each with its evidence (planner/FIDELITY.md).
Further arguments are the configuration paths, as for plan.`,
		Flags: append([]cli.Flag{formatFlag("text or json"), userFlag()}, lockfileFlags()...),
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, "text", "json")
			if err != nil {
				return err
			}
			if c.NArg() < 2 {
				return usageError("explain takes a job key and a path, e.g. jobsync explain etl 'tasks[task_key=\"load\"].timeout_seconds'")
			}
			key, path := c.Args().Get(0), c.Args().Get(1)
			cfg, err := loadConfig(c, e)
			if err != nil {
				return err
			}
			if line := userLine(c, cfg); line != "" {
				fmt.Fprintln(e.err, line)
			}
			job := cfg.Job(key)
			if job == nil {
				return fmt.Errorf("no job %q in the configuration (jobsync validate lists what is there)", key)
			}
			lockPath, err := lockfilePath(c, e)
			if err != nil {
				return err
			}
			st, err := state.Open(c.Context, lockPath)
			if err != nil {
				return err
			}
			var applied map[string]any
			if f := st.File(); f != nil {
				if j, ok := f.Jobs[key]; ok {
					if applied, err = j.AppliedSettings(); err != nil {
						return fmt.Errorf("job %q: lockfile %s: %v", key, lockPath, err)
					}
					if applied == nil {
						applied = map[string]any{}
					}
				}
			}
			x, err := planner.Explain(job, applied, path)
			if err != nil {
				return usageError(err.Error())
			}
			if format == "json" {
				return render.ExplanationJSON(e.out, x)
			}
			return render.ExplanationText(e.out, x)
		},
	}
}
