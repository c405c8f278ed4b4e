package planner

import (
	"fmt"
	"regexp"
	"strings"
)

// ForExport returns live settings as a person would write them in YAML:
// normalised (server defaults left out), without the fields the server fills
// in by itself (cluster attributes and the like, the table's "computed"
// rows) and without jobsync's ownership tag. Planning the result against the
// same job shows no change: computed fields are only compared where the
// configuration sets them.
//
// run_as is kept although it is computed: the API returns it only when it
// was set explicitly (jobs-api.md §7.1), so it is a real choice.
func ForExport(settings map[string]any) map[string]any {
	out, _ := stripComputed(rules.job, Normalize(settings), true).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if tags, ok := out["tags"].(map[string]any); ok {
		if _, ours := tags[OwnerTagKey]; ours {
			rest := make(map[string]any, len(tags))
			for k, v := range tags {
				if k != OwnerTagKey {
					rest[k] = v
				}
			}
			if len(rest) == 0 {
				delete(out, "tags")
			} else {
				out["tags"] = rest
			}
		}
	}
	return out
}

// stripComputed copies v without the computed fields under n. Normalize's
// result shares subtrees with its input, so this never edits in place.
func stripComputed(n *node, v any, top bool) any {
	switch x := v.(type) {
	case map[string]any:
		// A scoped field's children (a task, a cluster spec) live under
		// its scope root.
		base := n.elem()
		out := make(map[string]any, len(x))
		for k, val := range x {
			c := base.child(k)
			if c != nil && c.computed && !keepOnExport(k, x, top) {
				continue
			}
			out[k] = stripComputed(c, val, false)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if n != nil && n.key != "" {
				out[i] = stripComputed(n, e, false)
			} else {
				out[i] = e
			}
		}
		return out
	}
	return v
}

// keepOnExport names the computed fields that are nearly always the user's
// own choice, so that an export without them would lose information: run_as
// (returned only when set), and node types unless a pool chose them.
func keepOnExport(k string, parent map[string]any, top bool) bool {
	switch k {
	case "run_as":
		return top
	case "node_type_id":
		return !hasValue(parent["instance_pool_id"])
	case "driver_node_type_id":
		return !hasValue(parent["driver_instance_pool_id"]) && !hasValue(parent["instance_pool_id"])
	}
	return false
}

// omittedQueueEnabled is what jobsync sends when the configuration leaves
// queue out (see Build).
const omittedQueueEnabled = true

// AsConfiguration turns settings the lockfile recorded (normalised, so
// queue {enabled: false} is left out as the read-side default) back into
// settings that mean the same when planned as configuration, where an
// omitted queue means "enabled". drift replays the last apply this way.
func AsConfiguration(applied map[string]any) map[string]any {
	out := make(map[string]any, len(applied)+1)
	for k, v := range applied {
		out[k] = v
	}
	if !hasValue(out["queue"]) {
		out["queue"] = map[string]any{"enabled": !omittedQueueEnabled}
	}
	return out
}

// Exported is live jobs as a job file would hold them (Export).
type Exported struct {
	// Keys are the job keys in the order the jobs were given.
	Keys []string
	// Jobs are the settings per key, as ForExport writes them.
	Jobs map[string]any
	// Adopt are the jobs no jobsync project manages, under the keys they
	// were given: `jobsync import KEY JOB_ID` makes each the project's.
	Adopt []Adoption
	// Foreign are the jobs another jobsync project (or target) manages;
	// import refuses them.
	Foreign []Adoption
}

// Adoption is a job exported under a key it is not managed under.
type Adoption struct {
	Key   string
	JobID int64
	// Owner is the other project's ownership tag (Exported.Foreign).
	Owner string
}

// Export turns live jobs into a job file's content. A job the project
// manages keeps its key, so a plan after export shows no change; any
// other is keyed after its name (lower-case, "_" for anything else;
// job_<id> when the name leaves nothing), made unique with a suffix.
func Export(project string, live []Live) *Exported {
	out := &Exported{Jobs: map[string]any{}}
	type pending struct {
		l     *Live
		owner string
	}
	var others []pending
	// Managed jobs claim their keys first, so an unmanaged job of the same
	// name never takes one.
	for i := range live {
		l := &live[i]
		if key, ok := OwnedKey(project, l.Settings); ok {
			if _, taken := out.Jobs[key]; !taken {
				out.Keys = append(out.Keys, key)
				out.Jobs[key] = ForExport(l.Settings)
				continue
			}
		}
		others = append(others, pending{l, ownerTag(l.Settings)})
	}
	for _, p := range others {
		settings := ForExport(p.l.Settings)
		key := uniqueKey(out.Jobs, slug(settings["name"], p.l.JobID))
		out.Keys = append(out.Keys, key)
		out.Jobs[key] = settings
		a := Adoption{Key: key, JobID: p.l.JobID, Owner: p.owner}
		if p.owner == "" {
			out.Adopt = append(out.Adopt, a)
		} else {
			out.Foreign = append(out.Foreign, a)
		}
	}
	return out
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

// Redact replaces the secret-looking values of every exported job by
// Sensitive (RedactSettings) and returns how many jobs had any: that YAML
// must not be applied as it is.
func (e *Exported) Redact() int {
	n := 0
	for k, j := range e.Jobs {
		m, _ := j.(map[string]any)
		if r, changed := RedactSettings(m); changed {
			e.Jobs[k], n = r, n+1
		}
	}
	return n
}
