package planner

import (
	"fmt"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// CheckSaved says whether a saved plan may be applied to this workspace,
// project and lockfile: a plan printed with secrets redacted never (its
// bodies are not the real ones), one made for another workspace or
// project never, and one whose lockfile moved since never (CheckFresh).
// hint says how to select the plan's project, for that message.
func CheckSaved(p *Plan, workspace, project string, lock *state.File, hint string) error {
	switch {
	case p.Redacted:
		return fmt.Errorf("this plan was printed with its secrets redacted (plan --format json), so its request bodies are not the real ones; save a plan to apply with jobsync plan -out FILE")
	case p.Workspace != workspace:
		return fmt.Errorf("the plan was made for workspace %s, not %s: run jobsync plan against this workspace", p.Workspace, workspace)
	case p.Project != project:
		return fmt.Errorf("the plan was made for project %q, not %q: %s", p.Project, project, hint)
	}
	return CheckFresh(p, lock)
}

// CheckOnly refuses an --only key that names no job of the configuration
// nor of the lockfile: a typo would otherwise plan nothing, silently.
func CheckOnly(only []string, desired []*schema.Job, lock *state.File) error {
	known := make(map[string]bool, len(desired))
	for _, j := range desired {
		known[j.Key] = true
	}
	for _, k := range only {
		if !known[k] && (lock == nil || lock.Jobs[k].JobID == 0) {
			return fmt.Errorf("--only %s: no job with that key in the YAML or the lockfile", k)
		}
	}
	return nil
}
