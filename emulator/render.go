package emulator

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
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

// reader renders stored settings as the service shows them: reorder is the
// adversarial reordering knob, b the service behaviours that are on.
type reader struct {
	reorder bool
	b       Behaviour // the behaviours that are ON
}

func (s *Server) reader() reader {
	return reader{reorder: s.reorder.Load(), b: allBehaviours &^ s.opts.Without}
}

func (r reader) on(b Behaviour) bool { return r.b&b != 0 }

// settings returns the settings as the service shows them on read: the
// stored tree plus server defaults. It copies only the maps it changes
// (stored trees are immutable, see store). With withoutTasks, tasks and
// job_clusters are left out (jobs/list without expand_tasks). With reorder,
// depends_on and webhook lists are reordered; the order of the tasks
// themselves is view's business, as it must precede paging.
func (r reader) settings(st map[string]any, withoutTasks bool) map[string]any {
	out := cloneOrNew(st)
	// §7.1 job level.
	setDefault(out, "email_notifications", emptyObject)   // [cloud] current_can_manage_run/out.plan.direct.txt
	setDefault(out, "webhook_notifications", emptyObject) // [cloud] same file
	setDefault(out, "timeout_seconds", zero)              // [cloud] same file
	setDefault(out, "max_concurrent_runs", json.Number("1"))
	// [OAS21] "default behavior is to allow only 1 concurrent run"; docs example GET.
	setDefault(out, "name", "Untitled") // [OAS21] JobSettings.name default
	out["format"] = "MULTI_TASK"        // [SDK] JobSettings.format: always MULTI_TASK in 2.1+
	// No performance_target is added to a serverless job that sets none:
	// real workspaces add none (see TestServerlessJobReadsBackWithoutPerformanceTarget
	// for the evidence; the emulator used to, from [CLI]
	// bundle/configsync/defaults.go:38, and `databricks bundle plan` then
	// never converged).
	if r.on(ZeroScalars) {
		if tr := getMap(st, "trigger"); tr != nil {
			tr = maps.Clone(tr)
			for _, k := range []string{"file_arrival", "table_update"} {
				if m := getMap(tr, k); m != nil {
					m = maps.Clone(m)
					setDefault(m, "min_time_between_triggers_seconds", zero)
					setDefault(m, "wait_after_last_change_seconds", zero)
					tr[k] = m
				}
			}
			out["trigger"] = tr
		}
	}
	if r.reorder {
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
			rendered[i] = r.task(asMap(t), hasGit)
		}
		out["tasks"] = rendered
	}
	if jcs := getList(st, "job_clusters"); jcs != nil {
		rendered := make([]any, len(jcs))
		for i, c := range jcs {
			cm := asMap(c)
			if nc := getMap(cm, "new_cluster"); nc != nil {
				cm = maps.Clone(cm)
				cm["new_cluster"] = r.cluster(nc)
			}
			rendered[i] = cm
		}
		out["job_clusters"] = rendered
	}
	return out
}

// task adds the task-level read defaults of §7.2.
func (r reader) task(t map[string]any, hasGit bool) map[string]any {
	out := cloneOrNew(t)
	setDefault(out, "run_if", "ALL_SUCCESS")            // [TF] SuppressDiffWithDefault; [CLI] resources.yml backend_defaults
	setDefault(out, "timeout_seconds", zero)            // [CLI] configsync defaults; [ts] jobFixUps
	setDefault(out, "email_notifications", emptyObject) // [CLI] configsync defaults; [TF] SuppressDiff
	if r.on(TaskReadDefaults) {
		setDefault(out, "webhook_notifications", emptyObject) // [CLI] bundle/configsync/defaults.go:46,54
		setDefault(out, "disabled", false)                    // [CLI] bundle/configsync/defaults.go:42,50
	}
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
		sql = maps.Clone(sql)
		if f := getMap(sql, "file"); f != nil && getString(f, "source") == "" {
			f = maps.Clone(f)
			f["source"] = source
			sql["file"] = f
		}
		if r.on(ZeroScalars) {
			for _, k := range []string{"alert", "dashboard"} {
				if m := getMap(sql, k); m != nil {
					m = maps.Clone(m)
					setDefault(m, "pause_subscriptions", false)
					sql[k] = m
				}
			}
		}
		out["sql_task"] = sql
	}
	if r.on(ZeroScalars) {
		if d := getMap(t, "dashboard_task"); d != nil {
			if sub := getMap(d, "subscription"); sub != nil {
				sub = maps.Clone(sub)
				setDefault(sub, "paused", false)
				d = maps.Clone(d)
				d["subscription"] = sub
				out["dashboard_task"] = d
			}
		}
	}
	if nc := getMap(t, "new_cluster"); nc != nil {
		out["new_cluster"] = r.cluster(nc)
	}
	// for_each_task.task gets the same defaults as a top-level task ([CLI]
	// resources.yml, configsync).
	if fe := getMap(t, "for_each_task"); fe != nil {
		fe = maps.Clone(fe)
		if inner := getMap(fe, "task"); inner != nil {
			fe["task"] = r.task(inner, hasGit)
		}
		if r.on(ZeroScalars) {
			setDefault(fe, "concurrency", zero)
		}
		out["for_each_task"] = fe
	}
	if r.reorder {
		// depends_on comes back in the service's own order (§7.2); stored
		// sorted, shown reversed.
		if deps := getList(t, "depends_on"); len(deps) > 1 {
			rev := slices.Clone(deps)
			slices.Reverse(rev)
			out["depends_on"] = rev
		}
		if wh := getMap(out, "webhook_notifications"); len(wh) > 0 {
			out["webhook_notifications"] = reorderWebhooks(wh)
		}
	}
	return out
}

// cluster adds the cluster fields the service computes (§7.3): cloud
// attributes and data_security_mode when omitted ([CLI] resources.yml
// ignore_remote_changes and configsync "computed on some workspaces"; values
// as in [ts] jobFixUps, an AWS workspace), and enable_elastic_disk; with the
// behaviours on, the platform's defaults inside a partial aws_attributes,
// workload_type clients, the legacy delta preview conf, the read-back
// spelling of data_security_mode and the driver pool of a pool cluster.
func (r reader) cluster(c map[string]any) map[string]any {
	out := maps.Clone(c)
	_, aws := c["aws_attributes"]
	_, azure := c["azure_attributes"]
	_, gcp := c["gcp_attributes"]
	pool := getString(c, "instance_pool_id") != ""
	switch {
	case !aws && !azure && !gcp && !pool:
		out["aws_attributes"] = map[string]any{"availability": "SPOT_WITH_FALLBACK", "zone_id": "us-east-1c"}
	case aws && r.on(CloudAttributeDefaults) && !pool:
		a := maps.Clone(getMap(c, "aws_attributes"))
		if a == nil {
			a = map[string]any{}
		}
		setDefault(a, "availability", "SPOT_WITH_FALLBACK")
		setDefault(a, "zone_id", "us-east-1c")
		if r.on(ZeroScalars) {
			// [TF] clusters/resource_cluster.go:60-89 strips these zeros.
			setDefault(a, "ebs_volume_count", zero)
			setDefault(a, "ebs_volume_size", zero)
		}
		out["aws_attributes"] = a
	}
	setDefault(out, "data_security_mode", "SINGLE_USER")
	if !pool {
		setDefault(out, "enable_elastic_disk", false)
	}
	if r.on(DataSecurityModeAliases) {
		switch getString(out, "data_security_mode") {
		case "DATA_SECURITY_MODE_DEDICATED", "DATA_SECURITY_MODE_AUTO":
			out["data_security_mode"] = "SINGLE_USER"
		case "DATA_SECURITY_MODE_STANDARD":
			out["data_security_mode"] = "USER_ISOLATION"
		}
	}
	if r.on(WorkloadTypeClients) {
		if wt := getMap(c, "workload_type"); wt != nil {
			if cl := getMap(wt, "clients"); cl != nil {
				cl = maps.Clone(cl)
				setDefault(cl, "notebooks", true)
				setDefault(cl, "jobs", true)
				wt = maps.Clone(wt)
				wt["clients"] = cl
				out["workload_type"] = wt
			}
		}
	}
	if r.on(DeltaPreviewConf) && legacyRuntime(getString(c, "spark_version")) {
		sc := maps.Clone(getMap(c, "spark_conf"))
		if sc == nil {
			sc = map[string]any{}
		}
		setDefault(sc, "spark.databricks.delta.preview.enabled", "true")
		out["spark_conf"] = sc
	}
	if r.on(InstancePoolRules) && pool {
		setDefault(out, "driver_instance_pool_id", getString(c, "instance_pool_id"))
	}
	return out
}

// legacyRuntime: a Databricks runtime version "M.m.x-..." with M below 6.
func legacyRuntime(v string) bool {
	major, _, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(major)
	return err == nil && n < 6
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// view is the stored settings as a read shows them before defaults: tasks
// sorted by task_key (SortedTasks), or with reorder in a deterministic order
// unrelated to both the request order and the key order (by a hash of
// task_key), so that a client relying on either is caught; with page >= 0,
// only that page of each paged array (more reports whether any array goes
// on). The result shares the stored values and may be modified at the top.
func (r reader) view(st map[string]any, page int) (view map[string]any, more bool) {
	view = maps.Clone(st)
	if tasks := getList(st, "tasks"); !r.reorder && r.on(SortedTasks) && len(tasks) > 1 {
		tasks = slices.Clone(tasks)
		slices.SortStableFunc(tasks, func(a, b any) int {
			return strings.Compare(getString(asMap(a), "task_key"), getString(asMap(b), "task_key"))
		})
		view["tasks"] = tasks
	}
	if tasks := getList(st, "tasks"); r.reorder && len(tasks) > 1 {
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
func (r reader) listView(j *job, expand, v21 bool) []byte {
	slot := 0
	if expand {
		slot |= 1
	}
	if v21 {
		slot |= 2
	}
	if r.reorder {
		slot |= 4
	}
	if b := j.views[slot].Load(); b != nil {
		return *b
	}
	page := -1
	if expand && !v21 {
		page = 0
	}
	view, more := r.view(j.settings, page)
	settings := r.settings(view, !expand)
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
