package emulator

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// createJob: POST jobs/create (§3.2.1). The body is JobSettings plus
// access_control_list, applied as the job's permissions.
func (s *Server) createJob(rq *request) (any, *apiError) {
	st := rq.st
	settings := maps.Clone(rq.params)
	aclReq := objects(settings, "access_control_list")
	delete(settings, "access_control_list")
	if err := s.applyPolicies(settings); err != nil {
		return nil, err
	}
	normalizeSettings(settings)
	if !rq.v21() {
		defaultQueue(settings)
	}
	if err := s.validate(settings); err != nil {
		return nil, err
	}
	acl, err := s.initialACL(rq.who, aclReq)
	if err != nil {
		return nil, err
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	if q := s.opts.JobQuota; q >= 0 && len(st.jobs) >= q {
		// §3.2.1, §6.2 [obs] astronomer/astro-sdk#1550 (HTTP 400; the
		// rest of the service's message is not quoted anywhere).
		return nil, &apiError{status: http.StatusBadRequest, code: codeQuotaExceeded,
			msg: "The quota for the number of jobs has been reached. The current quota is " + strconv.Itoa(q) + "."}
	}
	if err := st.countCreate(rq.now, s.opts.CreatesPerHour); err != nil {
		return nil, err
	}
	j := newJob(st.newJobID(), rq.now, rq.who.name, settings)
	st.putJob(j)
	st.perms[j.id] = acl
	return map[string]any{"job_id": num(j.id)}, nil
}

// countCreate enforces the hourly job-creation limit on the emulated clock
// (§3.2.1, §6.2: INVALID_STATE as an HTTP 400, KB
// https://docs.azure.cn/zh-cn/databricks/kb/jobs/job-rate-limit).
func (st *store) countCreate(now int64, limit int) *apiError {
	if limit < 0 {
		return nil
	}
	cut := 0
	for cut < len(st.creates) && st.creates[cut] <= now-3_600_000 {
		cut++
	}
	st.creates = st.creates[cut:]
	if len(st.creates) >= limit {
		return invalidState("There were already %d jobs created in past 3600 seconds, exceeding rate limit: %d job creations per 3600 seconds.", len(st.creates), limit)
	}
	st.creates = append(st.creates, now)
	return nil
}

// defaultQueue: API 2.2 turns queueing on for jobs created or reset without a
// queue setting (§3.3, §4.2 quirk 2; docs
// https://docs.databricks.com/jobs/jobs-api-updates.html; [TF]
// jobs_api_go_sdk.go "The Jobs 2.2 Reset API enables queueing if unset").
func defaultQueue(settings map[string]any) {
	if _, ok := settings["queue"]; !ok {
		settings["queue"] = map[string]any{"enabled": true}
	}
}

// normalizeSettings applies the write-time normalisation of §11.2 to freshly
// decoded settings (it modifies them in place; they are not shared yet):
//   - format is ignored on create/update/reset and always MULTI_TASK on read
//     ([SDK] JobSettings.format);
//   - depends_on is stored sorted by task_key: the service returns it in its
//     own order, not the request's ([CLI] commit 6f48f8b3, TF issue #2942;
//     the CLI test server sorts it);
//   - apply_policy_default_values is accepted but never returned (§7.3,
//     [CLI] resources.yml "not_returned_by_api").
func normalizeSettings(settings map[string]any) {
	delete(settings, "format")
	for _, t := range objects(settings, "tasks") {
		normalizeTask(t)
	}
	for _, c := range objects(settings, "job_clusters") {
		if nc := getMap(c, "new_cluster"); nc != nil {
			delete(nc, "apply_policy_default_values")
		}
	}
}

func normalizeTask(t map[string]any) {
	if deps := getList(t, "depends_on"); len(deps) > 1 {
		slices.SortStableFunc(deps, func(a, b any) int {
			return strings.Compare(getString(asMap(a), "task_key"), getString(asMap(b), "task_key"))
		})
	}
	if nc := getMap(t, "new_cluster"); nc != nil {
		delete(nc, "apply_policy_default_values")
	}
	if fe := getMap(t, "for_each_task"); fe != nil {
		if inner := getMap(fe, "task"); inner != nil {
			normalizeTask(inner)
		}
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// getJob: GET jobs/get (§3.2.2, §5.1).
func (s *Server) getJob(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "job_id")
	st.mu.RLock()
	j := st.jobs[id]
	owner := ownerOf(st.perms[id])
	st.mu.RUnlock()
	if j == nil {
		return nil, jobNotFound(id)
	}
	page := 0
	if tok := getString(rq.params, "page_token"); tok != "" {
		c, err := decodeToken(tok, tokJobGet)
		if err != nil || c.K1 != id || c.K2 < 1 {
			return nil, invalidParam("Invalid page token.")
		}
		page = int(c.K2)
	}
	r := s.reader()
	next := ""
	var view map[string]any
	if rq.v21() {
		// 2.1 has no array paging and refuses large jobs (§3.3, §11.1; docs
		// https://docs.databricks.com/gcp/jobs/large-jobs; code assumed).
		if n := len(getList(j.settings, "tasks")); n > pageSize {
			return nil, invalidParam("Resources with more than %d tasks can only be handled by API 2.2 and above. Your resource has %d tasks", pageSize, n)
		}
		view, _ = r.view(j.settings, -1)
	} else {
		var more bool
		if view, more = r.view(j.settings, page); more {
			next = encodeToken(tokJobGet, cursor{K1: id, K2: int64(page + 1)})
		}
	}
	settings := r.settings(view, false)
	return jobBody(j, settings, runAsUserName(j, owner), next), nil
}

func jobBody(j *job, settings map[string]any, runAs, next string) map[string]any {
	out := map[string]any{
		"job_id":            num(j.id),
		"creator_user_name": j.creator,
		"run_as_user_name":  runAs,
		"created_time":      num(j.created),
		"settings":          settings,
	}
	if next != "" {
		out["next_page_token"] = next
	}
	return out
}

// runAsUserName is the identity runs use: the explicit run_as, else the
// job's owner, else its creator ([SDK] Job.run_as_user_name, §7.1).
func runAsUserName(j *job, owner string) string {
	if ra := getMap(j.settings, "run_as"); ra != nil {
		for _, k := range []string{"user_name", "service_principal_name", "group_name"} {
			if v := getString(ra, k); v != "" {
				return v
			}
		}
	}
	if owner != "" {
		return owner
	}
	return j.creator
}

// resetJob: POST jobs/reset (§4.2): a full replace of the settings, except
// that an omitted run_as keeps the previous one ([cloud]
// acceptance/bundle/run_as/job_default) and, on 2.2, an omitted queue turns
// queueing on (§4.2 quirk 2).
func (s *Server) resetJob(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "job_id")
	settings := getMap(rq.params, "new_settings")
	st.mu.Lock()
	defer st.mu.Unlock()
	old := st.jobs[id]
	if old == nil {
		return nil, jobNotFound(id)
	}
	if settings == nil {
		return nil, invalidParam("Missing required field: new_settings")
	}
	if err := s.applyPolicies(settings); err != nil {
		return nil, err
	}
	normalizeSettings(settings)
	if _, ok := settings["run_as"]; !ok {
		if ra, ok := old.settings["run_as"]; ok {
			settings["run_as"] = ra
		}
	}
	if !rq.v21() {
		defaultQueue(settings)
	}
	if err := s.validate(settings); err != nil {
		return nil, err
	}
	st.putJob(newJob(id, old.created, old.creator, settings))
	return nil, nil
}

// updateJob: POST jobs/update (§4.1, §4.3). Top-level fields of new_settings
// replace the stored ones wholesale; tasks and job_clusters are merged by
// task_key / job_cluster_key ([SDK] UpdateJob doc); parameters and
// environments are merged by name / environment_key (assumed: the doc says
// "arrays ... are merged" but names only the first two keys);
// fields_to_remove takes top-level names, tasks/<key> and job_clusters/<key>.
// fields_to_remove is applied first, so a field both removed and sent ends up
// as sent (undocumented; assumed). The merged result is validated as a whole.
func (s *Server) updateJob(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "job_id")
	incoming := getMap(rq.params, "new_settings")
	st.mu.Lock()
	defer st.mu.Unlock()
	old := st.jobs[id]
	if old == nil {
		return nil, jobNotFound(id)
	}
	merged := maps.Clone(old.settings)
	for _, f := range getList(rq.params, "fields_to_remove") {
		if err := removeField(merged, f.(string)); err != nil {
			return nil, err
		}
	}
	if incoming != nil {
		if err := s.applyPolicies(incoming); err != nil {
			return nil, err
		}
		normalizeSettings(incoming)
		for k, v := range incoming {
			key, keyed := arrayKeys[k]
			if !keyed {
				merged[k] = v
				continue
			}
			if dup := duplicateKey(v.([]any), key); dup != "" {
				return nil, invalidParam("Duplicate %s %q in new_settings.%s.", key, dup, k)
			}
			merged[k] = upsert(getList(merged, k), v.([]any), key)
		}
	}
	if err := s.validate(merged); err != nil {
		return nil, err
	}
	st.putJob(newJob(id, old.created, old.creator, merged))
	return nil, nil
}

// arrayKeys are the settings arrays jobs/update merges by key (§4.1).
var arrayKeys = map[string]string{
	"tasks":        "task_key",
	"job_clusters": "job_cluster_key",
	"parameters":   "name",
	"environments": "environment_key",
}

func removeField(settings map[string]any, f string) *apiError {
	for _, arr := range []string{"tasks", "job_clusters"} {
		k, ok := strings.CutPrefix(f, arr+"/")
		if !ok {
			continue
		}
		list := getList(settings, arr)
		i := slices.IndexFunc(list, func(e any) bool { return getString(asMap(e), arrayKeys[arr]) == k })
		if i < 0 || k == "" {
			// Removing a missing element: undocumented, assumed 400 (§4.3).
			return invalidParam("Cannot remove %s: no element with %s %q.", f, arrayKeys[arr], k)
		}
		settings[arr] = slices.Delete(slices.Clone(list), i, i+1)
		return nil
	}
	if strings.Contains(f, "/") || f == "" {
		// Nested paths are "not supported" ([SDK] UpdateJob.fields_to_remove; §4.1).
		return invalidParam("Invalid fields_to_remove entry %q: only top-level fields, tasks/<task_key> and job_clusters/<job_cluster_key> can be removed.", f)
	}
	// A top-level name the settings do not have is a no-op: the 2.1 spec's
	// own example removes "libraries", which JobSettings has no longer
	// ([OAS21] /2.1/jobs/update).
	delete(settings, f)
	return nil
}

// upsert merges incoming into existing by key: a matching element is
// replaced wholesale, a new one appended (§4.1; position of new elements
// undocumented, append assumed).
func upsert(existing, incoming []any, key string) []any {
	out := slices.Clone(existing)
	idx := make(map[string]int, len(out))
	for i, e := range out {
		idx[getString(asMap(e), key)] = i
	}
	for _, e := range incoming {
		k := getString(asMap(e), key)
		if i, ok := idx[k]; ok {
			out[i] = e
			continue
		}
		idx[k] = len(out)
		out = append(out, e)
	}
	return out
}

func duplicateKey(list []any, key string) string {
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		k := getString(asMap(e), key)
		if seen[k] {
			return k
		}
		seen[k] = true
	}
	return ""
}

// deleteJob: POST jobs/delete (§3.2.6).
func (s *Server) deleteJob(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "job_id")
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.jobs[id] == nil {
		return nil, jobNotFound(id)
	}
	st.deleteJob(id)
	return nil, nil
}

// validate is validateSettings plus the checks of the service behaviours
// that are on: node types beside an instance pool are refused
// (InstancePoolRules: "The field 'node_type_id' cannot be supplied when an
// instance pool ID is provided.", TF #2141, brickflow #43; the
// driver_node_type_id message is assumed to follow it).
func (s *Server) validate(settings map[string]any) *apiError {
	if err := validateSettings(settings); err != nil {
		return err
	}
	if !s.on(InstancePoolRules) {
		return nil
	}
	var err *apiError
	forEachCluster(settings, func(c map[string]any) {
		if err != nil || getString(c, "instance_pool_id") == "" {
			return
		}
		for _, f := range []string{"node_type_id", "driver_node_type_id"} {
			if _, ok := c[f]; ok {
				err = invalidParam("The field '%s' cannot be supplied when an instance pool ID is provided.", f)
				return
			}
		}
	})
	return err
}
