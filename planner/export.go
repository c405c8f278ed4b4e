package planner

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
