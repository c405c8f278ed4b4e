package applier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
)

// StaleError says a job changed in the workspace between the plan and the
// apply of a saved plan; applying the plan's request would overwrite that
// change unseen.
type StaleError struct {
	Key   string
	JobID int64
	// Fields are the keyed paths that changed, when they could be told;
	// empty means only that the job's digest moved.
	Fields []string
	// Deleted is set when the job no longer exists.
	Deleted bool
}

func (e *StaleError) Error() string {
	what := "changed in the workspace after the plan was made"
	switch {
	case e.Deleted:
		what = "was deleted in the workspace after the plan was made"
	case len(e.Fields) > 0:
		what += " (" + strings.Join(e.Fields, ", ") + ")"
	}
	return fmt.Sprintf("job %d (%s) %s: run `jobsync plan` again and review the new plan", e.JobID, e.Key, what)
}

// maxFields bounds the fields named in a StaleError.
const maxFields = 10

// checkLive re-reads the job an action touches and refuses the action when
// the job does not carry the action's key's ownership tag (an
// *planner.OwnershipError: a plan file edited, or made against a lockfile
// that named someone else's job, or a job whose tag was changed since), or
// when its digest differs from the one it was planned against. gone
// reports a job that no longer exists, which is only fine for a delete.
func (a *applier) checkLive(ctx context.Context, act *planner.Action, jobID int64, planned map[string]any) (gone bool, err error) {
	live, err := a.client.GetJob(ctx, jobID)
	if jobsapi.IsNotFound(err) {
		if act.Op == planner.OpDelete {
			return true, nil
		}
		return true, &StaleError{Key: act.Key, JobID: jobID, Deleted: true}
	}
	if err != nil {
		return false, fmt.Errorf("re-reading job %d to check it did not change since the plan: %w", jobID, err)
	}
	// The tag first: a foreign job is refused as foreign, whatever its
	// digest says (a doctored plan can carry any digest, or none).
	if err := planner.CheckRenameOwner(a.plan.Project, act.Key, act.MovedFrom, jobID, live.Settings); err != nil {
		oe := err.(*planner.OwnershipError)
		oe.Op = act.Op
		return false, oe
	}
	if act.LiveDigest == "" || planner.Digest(live.Settings) == act.LiveDigest {
		return false, nil
	}
	return false, &StaleError{Key: act.Key, JobID: jobID, Fields: changedSincePlan(act, planned, live.Settings)}
}

// changedSincePlan names the fields of a job that differ from what the plan
// saw. The plan does not hold the live settings it was made against, but it
// implies them: where it lists a change, live had the change's Before
// value; everywhere else live equalled the planned settings. So a path
// changed since the plan when the live value now differs from that.
func changedSincePlan(act *planner.Action, planned, live map[string]any) []string {
	if planned == nil {
		return nil
	}
	known := map[string]planner.Change{}
	for _, c := range act.Changes {
		known[c.Path] = c
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	now := planner.Diff(planner.Normalize(planned), planner.Normalize(live))
	differs := map[string]bool{}
	for _, d := range now {
		differs[d.Path] = true
		c, ok := known[d.Path]
		if !ok {
			add(d.Path) // matched the plan then, differs now
			continue
		}
		// c is live → planned (Before is what live held), d is planned →
		// live (After is what live holds now).
		if sameValue(c.Before, d.After) {
			continue // the difference the plan already knew
		}
		add(d.Path)
	}
	for _, c := range act.Changes {
		if !differs[c.Path] {
			add(c.Path) // differed then, matches the plan now: someone made the change
		}
	}
	if len(out) > maxFields {
		out = append(out[:maxFields], fmt.Sprintf("and %d more", len(out)-maxFields))
	}
	return out
}

func sameValue(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
