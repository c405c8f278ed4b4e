package schema

import (
	"fmt"
	"sort"
)

// checkMoves checks the renames the jobs declare (lifecycle.moved_from and
// lifecycle.moved_tasks) and returns the renamed job keys, old -> new. A
// rename must be unambiguous: a job moves from a key that is no longer
// configured, and no two jobs move from one key; a task moves from a task
// key the job no longer has to one it has, and no two tasks move to one.
func (l *loader) checkMoves(unique []*loadedJob, byKey map[string]*loadedJob) map[string]string {
	movedTo := map[string]string{}
	from := map[string]*loadedJob{}
	for _, lj := range unique {
		lc := lj.job.Lifecycle
		var fs []finding
		if old := lc.MovedFrom; old != "" {
			switch other, configured := byKey[old]; {
			case old == lj.job.Key:
				fs = append(fs, finding{ptr: "/lifecycle/moved_from", msg: "moved_from names the job's own key"})
			case configured:
				fs = append(fs, finding{ptr: "/lifecycle/moved_from", msg: fmt.Sprintf("job %q is still configured (%s): a job moves from a key that is gone; remove that job, or this moved_from", old, other.job.Pos)})
			case from[old] != nil:
				fs = append(fs, finding{ptr: "/lifecycle/moved_from", msg: fmt.Sprintf("job %q also moves from %q: one old key can become one new key only", from[old].job.Key, old)})
			default:
				from[old] = lj
				movedTo[old] = lj.job.Key
			}
		}
		if len(lc.MovedTasks) > 0 {
			tasks := map[string]bool{}
			var names []string
			for _, t := range asSlice(lj.job.Settings["tasks"]) {
				if m, ok := t.(map[string]any); ok {
					if k, ok := m["task_key"].(string); ok {
						tasks[k] = true
						names = append(names, k)
					}
				}
			}
			sort.Strings(names)
			olds := make([]string, 0, len(lc.MovedTasks))
			for old := range lc.MovedTasks {
				olds = append(olds, old)
			}
			sort.Strings(olds)
			to := map[string]string{}
			for _, old := range olds {
				nw := lc.MovedTasks[old]
				ptr := "/lifecycle/moved_tasks/" + escapePtr(old)
				switch {
				case old == nw:
					fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("task %q moves to itself", old)})
				case tasks[old]:
					fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("task %q is still in the job: a task moves from a key the job no longer has", old)})
				case !tasks[nw]:
					fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("%q is not a task of this job%s: moved_tasks maps an old task_key to the new one", nw, didYouMean(nw, names))})
				case to[nw] != "":
					fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("tasks %q and %q both move to %q: one old task can become one new task only", to[nw], old, nw)})
				default:
					to[nw] = old
				}
			}
		}
		l.report(lj, fs)
	}
	return movedTo
}
