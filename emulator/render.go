package emulator

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
)

// pageSize is the number of array elements per read response (§5.1, §6.4).
const pageSize = 100

// jobArrays are the arrays jobs/get pages in 2.2 (§5.1).
var jobArrays = []string{"tasks", "job_clusters", "parameters", "environments"}

// Read-time server defaults (§7). The stored settings hold what the client
// sent; these are added when a job is read, as the service does. Shared
// read-only values: renderers never modify them.
var (
	emptyObject = map[string]any{}
	zero        = json.Number("0")
)

// renderSettings returns the settings as the service shows them on read: the
// stored tree plus server defaults. It copies only the maps it changes
// (stored trees are immutable, see store). With withoutTasks, tasks and
// job_clusters are left out (jobs/list without expand_tasks). With reorder,
// depends_on and webhook lists are reordered; the order of the tasks
// themselves is readView's business, as it must precede paging.
func renderSettings(st map[string]any, reorder, withoutTasks bool) map[string]any {
	out := cloneOrNew(st)
	// §7.1 job level.
	setDefault(out, "email_notifications", emptyObject)   // [cloud] current_can_manage_run/out.plan.direct.txt
	setDefault(out, "webhook_notifications", emptyObject) // [cloud] same file
	setDefault(out, "timeout_seconds", zero)              // [cloud] same file
	setDefault(out, "max_concurrent_runs", json.Number("1"))
	// [OAS21] "default behavior is to allow only 1 concurrent run"; docs example GET.
	setDefault(out, "name", "Untitled") // [OAS21] JobSettings.name default
	out["format"] = "MULTI_TASK"        // [SDK] JobSettings.format: always MULTI_TASK in 2.1+
	if reorder {
		out["webhook_notifications"] = reorderWebhooks(getMap(out, "webhook_notifications"))
	}
	if withoutTasks {
		// [OAS21] expand_tasks: "Whether to include task and cluster details".
		delete(out, "tasks")
		delete(out, "job_clusters")
		return out
	}
	_, hasGit := st["git_source"]
	if tasks := getList(st, "tasks"); tasks != nil {
		rendered := make([]any, len(tasks))
		for i, t := range tasks {
			rendered[i] = renderTask(asMap(t), hasGit, reorder)
		}
		out["tasks"] = rendered
	}
	if jcs := getList(st, "job_clusters"); jcs != nil {
		rendered := make([]any, len(jcs))
		for i, c := range jcs {
			cm := asMap(c)
			if nc := getMap(cm, "new_cluster"); nc != nil {
				cm = maps.Clone(cm)
				cm["new_cluster"] = renderCluster(nc)
			}
			rendered[i] = cm
		}
		out["job_clusters"] = rendered
	}
	return out
}

// renderTask adds the task-level read defaults of §7.2.
func renderTask(t map[string]any, hasGit, reorder bool) map[string]any {
	out := cloneOrNew(t)
	setDefault(out, "run_if", "ALL_SUCCESS")            // [TF] SuppressDiffWithDefault; [CLI] resources.yml backend_defaults
	setDefault(out, "timeout_seconds", zero)            // [CLI] configsync defaults; [ts] jobFixUps
	setDefault(out, "email_notifications", emptyObject) // [CLI] configsync defaults; [TF] SuppressDiff
	// Source of notebook/python/dbt/sql-file tasks: GIT when the job has a
	// git_source, else WORKSPACE ([TF] SuppressDiff on all four; [CLI]
	// resources.yml; [ts] setSourceIfNotSet).
	source := "WORKSPACE"
	if hasGit {
		source = "GIT"
	}
	for _, tt := range []string{"notebook_task", "spark_python_task", "dbt_task"} {
		if m := getMap(t, tt); m != nil && getString(m, "source") == "" {
			m = maps.Clone(m)
			m["source"] = source
			out[tt] = m
		}
	}
	if sql := getMap(t, "sql_task"); sql != nil {
		if f := getMap(sql, "file"); f != nil && getString(f, "source") == "" {
			f = maps.Clone(f)
			f["source"] = source
			sql = maps.Clone(sql)
			sql["file"] = f
			out["sql_task"] = sql
		}
	}
	if nc := getMap(t, "new_cluster"); nc != nil {
		out["new_cluster"] = renderCluster(nc)
	}
	// for_each_task.task gets the same defaults as a top-level task ([CLI]
	// resources.yml, configsync).
	if fe := getMap(t, "for_each_task"); fe != nil {
		if inner := getMap(fe, "task"); inner != nil {
			fe = maps.Clone(fe)
			fe["task"] = renderTask(inner, hasGit, reorder)
			out["for_each_task"] = fe
		}
	}
	if reorder {
		// depends_on comes back in the service's own order (§7.2); stored
		// sorted, shown reversed.
		if deps := getList(t, "depends_on"); len(deps) > 1 {
			rev := slices.Clone(deps)
			slices.Reverse(rev)
			out["depends_on"] = rev
		}
		if wh := getMap(t, "webhook_notifications"); wh != nil {
			out["webhook_notifications"] = reorderWebhooks(wh)
		}
	}
	return out
}

// renderCluster adds the cluster fields the service computes (§7.3): cloud
// attributes and data_security_mode when omitted ([CLI] resources.yml
// ignore_remote_changes and configsync "computed on some workspaces"; values
// as in [ts] jobFixUps, an AWS workspace), and enable_elastic_disk.
func renderCluster(c map[string]any) map[string]any {
	out := maps.Clone(c)
	_, aws := c["aws_attributes"]
	_, azure := c["azure_attributes"]
	_, gcp := c["gcp_attributes"]
	if !aws && !azure && !gcp {
		out["aws_attributes"] = map[string]any{"availability": "SPOT_WITH_FALLBACK", "zone_id": "us-east-1c"}
	}
	setDefault(out, "data_security_mode", "SINGLE_USER")
	setDefault(out, "enable_elastic_disk", false)
	return out
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// readView is the stored settings as a read shows them before defaults: with
// reorder, tasks in a deterministic order unrelated to the request order (by
// a hash of task_key; the service is reported to return tasks in its own
// order, §7.2, laktory issue #286, TF sorts tasks on read); with page >= 0,
// only that page of each paged array (more reports whether any array goes
// on). The result shares the stored values and may be modified at the top.
func readView(st map[string]any, reorder bool, page int) (view map[string]any, more bool) {
	view = maps.Clone(st)
	if tasks := getList(st, "tasks"); reorder && len(tasks) > 1 {
		tasks = slices.Clone(tasks)
		slices.SortStableFunc(tasks, func(a, b any) int {
			ka, kb := getString(asMap(a), "task_key"), getString(asMap(b), "task_key")
			if ha, hb := hashKey(ka), hashKey(kb); ha != hb {
				if ha < hb {
					return -1
				}
				return 1
			}
			return strings.Compare(ka, kb)
		})
		view["tasks"] = tasks
	}
	if page >= 0 {
		view, more = pageArrays(view, page, jobArrays)
	}
	return view, more
}

func hashKey(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// reorderWebhooks reverses each webhook list: the service returns them "in an
// arbitrary order" ([CLI] bundle/direct/dresources/job.go; [TF]
// sortWebhookNotifications).
func reorderWebhooks(wh map[string]any) map[string]any {
	if len(wh) == 0 {
		return wh
	}
	out := maps.Clone(wh)
	for k, v := range wh {
		if l, ok := v.([]any); ok && len(l) > 1 {
			rev := slices.Clone(l)
			slices.Reverse(rev)
			out[k] = rev
		}
	}
	return out
}

// pageArrays cuts each named array of m (a rendered copy) to page number
// page of pageSize elements. Arrays exhausted before this page are left out
// ("Arrays without additional results will be empty on later pages", [SDK]
// interface.go Get). more reports whether any array has elements after this
// page.
func pageArrays(m map[string]any, page int, names []string) (map[string]any, bool) {
	more := false
	lo := page * pageSize
	for _, name := range names {
		l, ok := m[name].([]any)
		if !ok {
			continue
		}
		if lo >= len(l) && page > 0 {
			delete(m, name)
			continue
		}
		hi := min(lo+pageSize, len(l))
		m[name] = l[min(lo, hi):hi]
		more = more || len(l) > hi
	}
	return m, more
}

// listView renders j as a jobs/list item (BaseJob: no run_as_user_name,
// §3.2.3) and caches the bytes: lists of thousands of jobs then cost a
// concatenation. With expand_tasks on 2.2 each array is cut at 100 elements
// and the item says has_more (§5.2, [SDK] BaseJob.has_more); 2.1 returns all.
func listView(j *job, expand, v21, reorder bool) []byte {
	slot := 0
	if expand {
		slot |= 1
	}
	if v21 {
		slot |= 2
	}
	if reorder {
		slot |= 4
	}
	if b := j.views[slot].Load(); b != nil {
		return *b
	}
	page := -1
	if expand && !v21 {
		page = 0
	}
	view, more := readView(j.settings, reorder, page)
	settings := renderSettings(view, reorder, !expand)
	item := map[string]any{
		"job_id":            num(j.id),
		"creator_user_name": j.creator,
		"created_time":      num(j.created),
		"settings":          settings,
	}
	if more {
		item["has_more"] = true
	}
	b := appendJSON(nil, item)
	j.views[slot].Store(&b)
	return b
}

// cloneOrNew copies m, or makes an empty map when m is nil (a run read back
// from a hand-edited data file may lack its settings).
func cloneOrNew(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}
