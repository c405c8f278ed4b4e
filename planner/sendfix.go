package planner

import (
	"fmt"
	"maps"
	"slices"
)

// This file holds the send-side fix-ups: what jobsync changes in a request
// so that the service accepts it and reads it back as configured. They are
// applied by Build's send form and never to the YAML itself (every change
// copies along its path).

// toolFields are the settings the tool that deployed a job sets and users do
// not write: Asset Bundles sends edit_mode UI_LOCKED and deployment {kind:
// BUNDLE, metadata_file_path} on every deploy ([CLI]
// bundle/deploy/metadata/annotate_jobs.go:26-38). They are computed rows of
// the table (compared only where the YAML sets them), and a jobs/reset that
// leaves them out would clear them silently, so the request carries the
// workspace's values unless the YAML sets its own.
var toolFields = []string{"edit_mode", "deployment"}

// keepToolFields returns send with the live values of toolFields the YAML
// does not set.
func keepToolFields(send, live map[string]any) map[string]any {
	for _, f := range toolFields {
		if _, set := send[f]; set || !hasValue(live[f]) {
			continue
		}
		send[f] = live[f] // send is the send form's own top-level map
	}
	return send
}

// fixClusters makes every cluster spec of send legal for the API, the way
// both public tools do before they write ([TF]
// clusters/resource_cluster.go:155-246 ModifyRequestOnInstancePool, applied
// to job clusters by jobs/jobs_api_go_sdk.go:200-244):
//
//   - with instance_pool_id, the pool chooses the machines: node_type_id,
//     driver_node_type_id and enable_elastic_disk are refused ("The field
//     'node_type_id' cannot be supplied when an instance pool ID is
//     provided.", TF #2141), and of the cloud attributes only
//     aws_attributes.instance_profile_arn and
//     gcp_attributes.google_service_account are kept;
//   - without it, driver_instance_pool_id is refused (a driver pool needs a
//     worker pool).
//
// It returns the fixed settings and one note per field left out, for the
// plan's reason. Those fields are server-filled rows of the table, so what
// the service then reads back is no change.
func fixClusters(send map[string]any) (map[string]any, []string) {
	var notes []string
	out, copied := send, false
	if tasks, ok := send["tasks"].([]any); ok {
		if fixed, changed := fixTasks(tasks, []seg{{name: "tasks"}}, &notes); changed {
			out, copied = maps.Clone(out), true
			out["tasks"] = fixed
		}
	}
	if jcs, ok := send["job_clusters"].([]any); ok {
		var fixed []any
		for i, e := range jcs {
			jc, _ := e.(map[string]any)
			nc, _ := jc["new_cluster"].(map[string]any)
			if nc == nil {
				continue
			}
			p := []seg{{name: "job_clusters"}, {key: "job_cluster_key", val: keyString(jc["job_cluster_key"])}, {name: "new_cluster"}}
			if c, changed := fixCluster(nc, p, &notes); changed {
				if fixed == nil {
					fixed = slices.Clone(jcs)
				}
				jc = maps.Clone(jc)
				jc["new_cluster"] = c
				fixed[i] = jc
			}
		}
		if fixed != nil {
			if !copied {
				out = maps.Clone(out)
			}
			out["job_clusters"] = fixed
		}
	}
	return out, notes
}

func fixTasks(tasks []any, p []seg, notes *[]string) ([]any, bool) {
	var fixed []any
	for i, e := range tasks {
		t, _ := e.(map[string]any)
		if t == nil {
			continue
		}
		inner, _ := t["for_each_task"].(map[string]any)
		if inner != nil {
			inner, _ = inner["task"].(map[string]any)
		}
		nc, _ := t["new_cluster"].(map[string]any)
		innerNC, _ := inner["new_cluster"].(map[string]any)
		if (nc == nil || !needsFix(nc)) && (innerNC == nil || !needsFix(innerNC)) {
			continue
		}
		tp := append(slices.Clone(p), seg{key: "task_key", val: keyString(t["task_key"])})
		nt, changed := t, false
		if nc != nil {
			if c, ch := fixCluster(nc, append(slices.Clone(tp), seg{name: "new_cluster"}), notes); ch {
				nt, changed = maps.Clone(nt), true
				nt["new_cluster"] = c
			}
		}
		if fe, ok := t["for_each_task"].(map[string]any); ok {
			if inner, ok := fe["task"].(map[string]any); ok {
				ip := append(slices.Clone(tp), seg{name: "for_each_task"}, seg{name: "task"})
				if nc, ok := inner["new_cluster"].(map[string]any); ok {
					if c, ch := fixCluster(nc, append(ip, seg{name: "new_cluster"}), notes); ch {
						inner = maps.Clone(inner)
						inner["new_cluster"] = c
						fe = maps.Clone(fe)
						fe["task"] = inner
						if !changed {
							nt, changed = maps.Clone(nt), true
						}
						nt["for_each_task"] = fe
					}
				}
			}
		}
		if changed && fixed == nil {
			fixed = slices.Clone(tasks)
		}
		if changed {
			fixed[i] = nt
		}
	}
	return fixed, fixed != nil
}

// poolKeeps is what TF keeps of each cloud's attributes on a pool cluster.
var poolKeeps = map[string]string{"aws_attributes": "instance_profile_arn", "azure_attributes": "", "gcp_attributes": "google_service_account"}

// needsFix: whether fixCluster would change c (checked first, so that the
// common cluster costs no path building).
func needsFix(c map[string]any) bool {
	if !hasValue(c["instance_pool_id"]) {
		_, ok := c["driver_instance_pool_id"]
		return ok
	}
	for _, k := range []string{"node_type_id", "driver_node_type_id", "enable_elastic_disk", "aws_attributes", "azure_attributes", "gcp_attributes"} {
		if _, ok := c[k]; ok {
			return true
		}
	}
	return false
}

func fixCluster(c map[string]any, p []seg, notes *[]string) (map[string]any, bool) {
	if !needsFix(c) {
		return c, false
	}
	var out map[string]any
	drop := func(k, why string) {
		if out == nil {
			out = maps.Clone(c)
		}
		delete(out, k)
		*notes = append(*notes, fmt.Sprintf("%s is not sent: %s", formatPath(append(slices.Clone(p), seg{name: k})), why))
	}
	if !hasValue(c["instance_pool_id"]) {
		if _, ok := c["driver_instance_pool_id"]; ok {
			drop("driver_instance_pool_id", "a driver pool needs instance_pool_id for the workers")
		}
		if out == nil {
			return c, false
		}
		return out, true
	}
	const byPool = "the API refuses it with instance_pool_id (the pool sets it)"
	for _, k := range []string{"node_type_id", "driver_node_type_id", "enable_elastic_disk"} {
		if _, ok := c[k]; ok {
			drop(k, byPool)
		}
	}
	for _, k := range []string{"aws_attributes", "azure_attributes", "gcp_attributes"} {
		attrs, ok := c[k].(map[string]any)
		if !ok {
			continue
		}
		keep := poolKeeps[k]
		kept := map[string]any{}
		for ak, av := range attrs {
			if ak == keep {
				kept[ak] = av
				continue
			}
			*notes = append(*notes, fmt.Sprintf("%s is not sent: %s", formatPath(append(slices.Clone(p), seg{name: k}, seg{name: ak})), byPool))
		}
		if len(kept) == len(attrs) {
			continue
		}
		if out == nil {
			out = maps.Clone(c)
		}
		if len(kept) == 0 {
			delete(out, k)
		} else {
			out[k] = kept
		}
	}
	if out == nil {
		return c, false
	}
	return out, true
}
