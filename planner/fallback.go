package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// updateMergeKeys are the arrays jobs/update merges element by element, by
// these keys; every other top-level field of new_settings replaces the
// stored one wholesale (jobs-api.md §4.1; databricks-sdk-go
// service/jobs/model.go UpdateJob.new_settings: "Top-level fields specified
// in new_settings are completely replaced, except for arrays which are
// merged. That is, new and existing entries are merged based on the
// respective key fields, i.e. task_key or job_cluster_key"). The planner
// never sends parameters or environments in an update (see chooseWrite),
// so their undocumented merge does not matter here.
var updateMergeKeys = map[string]string{"tasks": "task_key", "job_clusters": "job_cluster_key"}

// ResetFromUpdate turns a jobs/update body into the jobs/reset body that
// leaves the job as that update would have: current is the job's settings
// as jobs/get returns them now; fields_to_remove is applied to it first
// (top-level names, "tasks/<task_key>", "job_clusters/<job_cluster_key>"),
// then new_settings: top-level fields replaced, tasks and job_clusters
// merged by key (a matching element replaced whole, a new one appended).
// The applier uses it when a workspace does not implement jobs/update.
// current is not modified.
func ResetFromUpdate(current map[string]any, update json.RawMessage) (json.RawMessage, error) {
	var u struct {
		JobID          json.Number    `json:"job_id"`
		NewSettings    map[string]any `json:"new_settings"`
		FieldsToRemove []string       `json:"fields_to_remove"`
	}
	dec := json.NewDecoder(bytes.NewReader(update))
	dec.UseNumber()
	if err := dec.Decode(&u); err != nil {
		return nil, fmt.Errorf("the update request is not valid JSON: %v", err)
	}
	if u.JobID == "" {
		return nil, fmt.Errorf("the update request has no job_id")
	}
	merged := maps.Clone(current)
	if merged == nil {
		merged = map[string]any{}
	}
	for _, f := range u.FieldsToRemove {
		arr, key, nested := strings.Cut(f, "/")
		if !nested {
			delete(merged, f)
			continue
		}
		keyField, ok := updateMergeKeys[arr]
		if !ok || key == "" || strings.Contains(key, "/") {
			return nil, fmt.Errorf("fields_to_remove %q: only top-level fields, tasks/<task_key> and job_clusters/<job_cluster_key> can be removed", f)
		}
		list, _ := merged[arr].([]any)
		i := slices.IndexFunc(list, func(e any) bool { return keyOf(e, keyField) == key })
		if i < 0 {
			return nil, fmt.Errorf("fields_to_remove %q: job %s has no such element", f, u.JobID)
		}
		merged[arr] = slices.Delete(slices.Clone(list), i, i+1)
	}
	for k, v := range u.NewSettings {
		keyField, ok := updateMergeKeys[k]
		incoming, isList := v.([]any)
		if !ok || !isList {
			merged[k] = v
			continue
		}
		existing, _ := merged[k].([]any)
		out := slices.Clone(existing)
		at := make(map[string]int, len(out))
		for i, e := range out {
			at[keyOf(e, keyField)] = i
		}
		for _, e := range incoming {
			if i, ok := at[keyOf(e, keyField)]; ok {
				out[i] = e
				continue
			}
			at[keyOf(e, keyField)] = len(out)
			out = append(out, e)
		}
		merged[k] = out
	}
	return marshal(map[string]any{"job_id": u.JobID, "new_settings": merged})
}
