package planner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ruleKind says what one row of the normalisation table does.
type ruleKind int

const (
	// kindDefault: a server default. The field is dropped when its value
	// equals Value, so "absent" and "the default" compare equal; when one
	// side has another value the change is shown against the default.
	kindDefault ruleKind = iota + 1
	// kindReadOnly: output-only, or accepted on write and never returned;
	// always dropped.
	kindReadOnly
	// kindComputed: the server (or a cluster policy) fills the field in when
	// the request leaves it out. It is compared only where the configuration
	// sets it (or did at the last apply); the whole subtree below inherits
	// this, so server-filled sub-fields of a set object never show either.
	kindComputed
	// kindKeyed: an array of objects identified by the field named in Value;
	// compared element by element by key and stored sorted by key.
	kindKeyed
	// kindSet: an array of scalars whose order means nothing; sorted,
	// duplicates dropped.
	kindSet
	// kindEnumFold: an enum the API accepts in any letter case; rewritten to
	// the canonical spelling listed in Value.
	kindEnumFold
	// kindSource: a task's source, WORKSPACE by default or GIT when the job
	// has git_source; dropped when it equals that default.
	kindSource
	// kindScope: the value (or each element of a keyed array) is a task or a
	// cluster spec, normalised with that scope's rows (Value names it).
	kindScope
	// kindKeepEmpty: an object whose mere presence means something (it selects
	// a task's type), kept even when empty.
	kindKeepEmpty
	// kindAtomic: an object compared as one value, never field by field (it
	// names exactly one of several alternatives).
	kindAtomic
)

// rule is one row of the normalisation table. Path is dotted and relative to
// the scope; each segment may list alternatives separated by '|'
// ("schedule|trigger.pause_status" is schedule.pause_status and
// trigger.pause_status). Evidence
// points at the fact in ../shared/reference (jobs-api.md section, or peers.md)
// or says [inf] when it is our inference.
type rule struct {
	scope    string // "job", "task" or "cluster"
	path     string
	kind     ruleKind
	value    any
	evidence string
}

const (
	webhookLists = "on_start|on_success|on_failure|on_duration_warning_threshold_exceeded|on_streaming_backlog_exceeded"
	taskTypes    = "ai_runtime_task|alert_task|clean_rooms_notebook_task|condition_task|dashboard_task|dbt_cloud_task|" +
		"dbt_platform_task|dbt_task|for_each_task|gen_ai_compute_task|notebook_task|pipeline_task|power_bi_task|" +
		"python_operator_task|python_wheel_task|run_job_task|spark_jar_task|spark_python_task|spark_submit_task|sql_task"
)

// table is the normalisation table: every server default, read-only field,
// server-filled field and canonical form the planner knows about. Three
// rules hold everywhere and are not rows: null is the same as absent; an
// empty object or array is the same as absent (kindKeepEmpty excepted);
// numbers are canonical (json.Number, integers without fraction or
// exponent). The "job" scope is JobSettings, "task" is every Task (including
// for_each_task.task, at any depth), "cluster" is every ClusterSpec inside a
// job (tasks[*].new_cluster, job_clusters[*].new_cluster).
var table = []rule{
	// JobSettings.
	{"job", "format", kindReadOnly, nil, "jobs-api.md §7.1, §12.17: input ignored, always MULTI_TASK on read"},
	{"job", "name", kindDefault, "Untitled", "jobs-api.md §7.1: name defaults to \"Untitled\""},
	{"job", "timeout_seconds", kindDefault, 0, "jobs-api.md §7.1: GET returns timeout_seconds 0 when unset"},
	{"job", "max_concurrent_runs", kindDefault, 1, "jobs-api.md §7.1: max_concurrent_runs defaults to 1 (0 is meaningful and kept)"},
	{"job", "queue", kindDefault, map[string]any{"enabled": false}, "jobs-api.md §7.1, §8.2: no queue settings means queueing off (2.0/2.1 jobs read back without queue); what jobsync sends when the YAML omits queue is decided in Build"},
	{"job", "run_as", kindComputed, nil, "jobs-api.md §7.1, §7.4, §12.3: returned only when set, sticky across reset; Build handles it against the job owner"},
	{"job", "run_as", kindAtomic, nil, "jobs-api.md §8.2: run_as is exactly one of user_name, service_principal_name, group_name"},
	{"job", "performance_target", kindComputed, nil, "jobs-api.md §7.1: PERFORMANCE_OPTIMIZED filled for serverless jobs ([CLI] configsync)"},
	{"job", "effective_budget_policy_id|effective_usage_policy_id", kindReadOnly, nil, "jobs-api.md §7.1: output fields of Job, filled from an inferred policy"},
	{"job", "email_notifications.no_alert_for_skipped_runs", kindDefault, false, "jobs-api.md §7.1: seen as {\"no_alert_for_skipped_runs\": false} on GET"},
	{"job", "email_notifications." + webhookLists, kindSet, nil, "[inf] addresses are a set; jobs-api.md §7.2 reports reordering of the sibling webhook lists"},
	{"job", "webhook_notifications." + webhookLists, kindKeyed, "id", "jobs-api.md §7.2, §7.4: webhook lists come back in arbitrary order; keyed by id"},
	{"job", "notification_settings.no_alert_for_skipped_runs|no_alert_for_canceled_runs", kindDefault, false, "[inf] false is the behaviour when unset (jobs-api-schema.md JobNotificationSettings)"},
	{"job", "schedule|trigger|continuous.pause_status", kindDefault, "UNPAUSED", "jobs-api.md §7.1: pause_status defaults to UNPAUSED (TF and DABs default it client-side)"},
	{"job", "git_source.git_snapshot", kindReadOnly, nil, "jobs-api.md §8.2: git_snapshot is output"},
	{"job", "git_source.git_provider", kindEnumFold, []string{"awsCodeCommit", "azureDevOpsServices", "bitbucketCloud", "bitbucketServer", "gitHub", "gitHubEnterprise", "gitLab", "gitLabEnterpriseEdition"}, "jobs-api.md §12.18: validated case-insensitively; canonical camelCase from jobs-api-schema.md GitSource"},
	{"job", "deployment.version_id", kindReadOnly, nil, "jobs-api.md §7.4: ignored entirely by DABs' direct engine ([CLI] resources.yml)"},
	{"job", "tasks", kindKeyed, "task_key", "jobs-api.md §7.2, §12.8: tasks may come back reordered; keyed by task_key"},
	{"job", "tasks", kindScope, "task", "jobs-api-schema.md JobSettings.tasks: array<Task>"},
	{"job", "job_clusters", kindKeyed, "job_cluster_key", "jobs-api.md §7.4: keyed by job_cluster_key"},
	{"job", "job_clusters.new_cluster", kindScope, "cluster", "jobs-api-schema.md JobCluster.new_cluster: ClusterSpec"},
	{"job", "parameters", kindKeyed, "name", "jobs-api.md §7.4: keyed by name"},
	{"job", "environments", kindKeyed, "environment_key", "jobs-api.md §7.4: keyed by environment_key"},

	// Task (tasks[*] and for_each_task.task).
	{"task", "run_if", kindDefault, "ALL_SUCCESS", "jobs-api.md §7.2: run_if ALL_SUCCESS on every task"},
	{"task", "timeout_seconds", kindDefault, 0, "jobs-api.md §7.2: timeout_seconds 0"},
	{"task", "disabled", kindDefault, false, "jobs-api.md §7.2: disabled false"},
	{"task", "max_retries|min_retry_interval_millis", kindDefault, 0, "[inf] 0 is the behaviour when unset (jobs-api.md §8.3: 0 = never retry)"},
	{"task", "email_notifications.no_alert_for_skipped_runs", kindDefault, false, "jobs-api.md §7.2: email_notifications {} or {no_alert_for_skipped_runs: false}"},
	{"task", "email_notifications." + webhookLists, kindSet, nil, "[inf] addresses are a set"},
	{"task", "webhook_notifications." + webhookLists, kindKeyed, "id", "jobs-api.md §7.2: webhook lists in arbitrary order; keyed by id"},
	{"task", "notification_settings.no_alert_for_skipped_runs|no_alert_for_canceled_runs|alert_on_last_attempt", kindDefault, false, "[inf] false is the behaviour when unset (jobs-api-schema.md TaskNotificationSettings)"},
	{"task", "notebook_task|spark_python_task|dbt_task.source", kindSource, nil, "jobs-api.md §7.2: WORKSPACE, or GIT when the job has git_source"},
	{"task", "sql_task.file.source", kindSource, nil, "jobs-api.md §7.2: WORKSPACE, or GIT when the job has git_source"},
	{"task", "pipeline_task.full_refresh", kindDefault, false, "jobs-api.md §7.2: full_refresh false"},
	{"task", "dbt_task.schema", kindDefault, "default", "jobs-api.md §7.2: dbt_task.schema \"default\""},
	{"task", "retry_on_timeout", kindComputed, nil, "jobs-api.md §7.2: server-computed ([TF] SetComputed)"},
	{"task", "spark_jar_task.run_as_repl", kindComputed, nil, "jobs-api.md §7.2: server-computed ([TF] SetComputed)"},
	{"task", "depends_on", kindKeyed, "task_key", "jobs-api.md §7.2, §12.8: depends_on re-ordered by the server; keyed by task_key"},
	{"task", "new_cluster", kindScope, "cluster", "jobs-api-schema.md Task.new_cluster: ClusterSpec"},
	{"task", "for_each_task.task", kindScope, "task", "jobs-api.md §7.2: for_each_task.task gets the same defaults as a task"},
	{"task", taskTypes, kindKeepEmpty, nil, "jobs-api.md §8.4: exactly one task type per task; an empty one (spark_jar_task: {}) still selects it"},

	// ClusterSpec inside jobs.
	{"cluster", "aws_attributes|azure_attributes|gcp_attributes", kindComputed, nil, "jobs-api.md §7.3: filled by the server ([CLI] resources.yml ignore_remote_changes)"},
	{"cluster", "data_security_mode", kindComputed, nil, "jobs-api.md §7.3: SINGLE_USER when omitted, varies by workspace"},
	{"cluster", "enable_elastic_disk|enable_local_disk_encryption|node_type_id|driver_node_type_id|driver_instance_pool_id", kindComputed, nil, "jobs-api.md §7.3: may be computed from policies/pools ([CLI] backend_defaults)"},
	{"cluster", "custom_tags|cluster_log_conf|single_user_name", kindComputed, nil, "jobs-api.md §7.3: often injected by cluster policies"},
	{"cluster", "apply_policy_default_values", kindReadOnly, nil, "jobs-api.md §7.3: accepted but never returned on GET"},
	{"cluster", "num_workers", kindDefault, 0, "jobs-api.md §7.3, §12.5: 0 is meaningful (single node) and always sent; absent and 0 compare equal so a read that omits the zero is no change"},
}

// node is the compiled form of the table: a trie over field names.
type node struct {
	kids map[string]*node

	readOnly   bool
	hasDefault bool
	dflt       any
	computed   bool
	key        string // keyed array: the key field
	set        bool
	fold       map[string]string // lower-case -> canonical spelling
	source     bool
	keepEmpty  bool
	atomic     bool
	scope      *node // the value's scope root (task or cluster), if any
	scopeName  string
}

func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	return n.kids[name]
}

// elem is the node for the elements of an array at n (its scope root if the
// elements are tasks or clusters), and for the object value of a scoped
// field.
func (n *node) elem() *node {
	if n != nil && n.scope != nil {
		return n.scope
	}
	return n
}

// rules is the compiled table, built once and never modified.
var rules = compile(table)

type compiled struct {
	job, task, cluster *node
}

func compile(t []rule) compiled {
	roots := map[string]*node{"job": {}, "task": {}, "cluster": {}}
	for _, r := range t {
		root := roots[r.scope]
		if root == nil {
			panic("planner: normalisation table row with unknown scope " + r.scope) // programming error in the table
		}
		for _, leaf := range expand(root, strings.Split(r.path, ".")) {
			switch r.kind {
			case kindDefault:
				leaf.hasDefault = true
				leaf.dflt = canonical(r.value)
			case kindReadOnly:
				leaf.readOnly = true
			case kindComputed:
				leaf.computed = true
			case kindKeyed:
				leaf.key = r.value.(string)
			case kindSet:
				leaf.set = true
			case kindEnumFold:
				leaf.fold = map[string]string{}
				for _, v := range r.value.([]string) {
					leaf.fold[strings.ToLower(v)] = v
				}
			case kindSource:
				leaf.source = true
			case kindScope:
				leaf.scopeName = r.value.(string)
			case kindKeepEmpty:
				leaf.keepEmpty = true
			case kindAtomic:
				leaf.atomic = true
			}
		}
	}
	// Link scopes after every row is in: for_each_task.task points back at
	// the task root, so the graph has a cycle by design.
	var link func(n *node, seen map[*node]bool)
	link = func(n *node, seen map[*node]bool) {
		if seen[n] {
			return
		}
		seen[n] = true
		if n.scopeName != "" {
			n.scope = roots[n.scopeName]
		}
		for _, k := range n.kids {
			link(k, seen)
		}
	}
	seen := map[*node]bool{}
	for _, r := range roots {
		link(r, seen)
	}
	return compiled{job: roots["job"], task: roots["task"], cluster: roots["cluster"]}
}

// expand returns (creating them) the nodes named by path, where each segment
// may hold alternatives separated by '|'.
func expand(root *node, path []string) []*node {
	cur := []*node{root}
	for _, s := range path {
		var next []*node
		for _, n := range cur {
			for _, name := range strings.Split(s, "|") {
				if n.kids == nil {
					n.kids = map[string]*node{}
				}
				c := n.kids[name]
				if c == nil {
					c = &node{}
					n.kids[name] = c
				}
				next = append(next, c)
			}
		}
		cur = next
	}
	return cur
}

// Normalize returns the canonical form of a JobSettings tree: server
// defaults equal to their default dropped, read-only fields dropped, keyed
// arrays sorted by key, set-like lists sorted, enums case-folded, empty
// objects and arrays dropped, numbers canonical. It does not modify its
// argument. Two settings that the Jobs API treats as the same normalise to
// deeply equal trees; the lockfile records settings in this form.
//
// The result shares unchanged subtrees with settings (already-canonical
// parts are not copied): treat both as read-only afterwards.
func Normalize(settings map[string]any) map[string]any {
	if settings == nil {
		return map[string]any{}
	}
	z := normalizer{git: hasValue(settings["git_source"])}
	out, _ := z.object(rules.job, settings)
	return out
}

type normalizer struct {
	git bool // the job has git_source: task sources default to GIT
}

func (z *normalizer) sourceDefault() string {
	if z.git {
		return "GIT"
	}
	return "WORKSPACE"
}

// object normalises m. It copies on write: when nothing in m changes it
// returns m itself (same is true), so already-canonical subtrees cost no
// allocation.
func (z *normalizer) object(n *node, m map[string]any) (out map[string]any, same bool) {
	for k, v := range m {
		c := n.child(k)
		drop, nv, unchanged := false, v, true
		if c != nil && c.readOnly {
			drop = true
		} else {
			var keep bool
			nv, keep, unchanged = z.value(c, v)
			switch {
			case !keep:
				drop = true
			case c != nil && c.hasDefault && deepEqual(nv, c.dflt):
				drop = true
			case c != nil && c.source && nv == z.sourceDefault():
				drop = true
			}
		}
		if !drop && unchanged {
			continue
		}
		if out == nil {
			// Entries seen so far were unchanged; those not seen yet are
			// fixed up as the loop reaches them.
			out = maps.Clone(m)
		}
		if drop {
			delete(out, k)
		} else {
			out[k] = nv
		}
	}
	if out == nil {
		return m, true
	}
	return out, false
}

// value normalises v: the result, whether to keep it at all, and whether
// it is v itself, unchanged.
func (z *normalizer) value(n *node, v any) (res any, keep, same bool) {
	switch x := v.(type) {
	case nil:
		return nil, false, false
	case map[string]any:
		o, same := z.object(n.elem(), x)
		if len(o) == 0 && (n == nil || !n.keepEmpty) {
			return nil, false, false
		}
		if same {
			return v, true, true
		}
		return o, true, false
	case []any:
		return z.array(n, x)
	case string:
		if n != nil && n.fold != nil {
			if c, ok := n.fold[strings.ToLower(x)]; ok && c != x {
				return c, true, false
			}
		}
		return v, true, true
	case bool:
		return v, true, true
	case json.Number:
		if isPlainInt(string(x)) {
			return v, true, true
		}
	}
	return canonical(v), true, false
}

func (z *normalizer) array(n *node, x []any) (any, bool, bool) {
	if len(x) == 0 {
		return nil, false, false
	}
	keyed := n != nil && n.key != ""
	set := n != nil && n.set
	en := n.elem()
	if !keyed && !set {
		en = nil // positional arrays (libraries, parameter lists, ...) carry no rules
	}
	var out []any // nil until something changes
	for i, e := range x {
		ne, ok, same := z.value(en, e)
		if !ok {
			if keyed || set {
				if out == nil {
					out = append(make([]any, 0, len(x)), x[:i]...)
				}
				continue
			}
			ne, same = nil, e == nil
		}
		switch {
		case out != nil:
			out = append(out, ne)
		case !same:
			out = append(make([]any, 0, len(x)), x[:i]...)
			out = append(out, ne)
		}
	}
	res, changed := x, out != nil
	if changed {
		res = out
	}
	switch {
	case keyed && !sortedKeyed(res, n.key):
		if !changed {
			res = slices.Clone(x)
		}
		sortKeyed(res, n.key)
		changed = true
	case set && !sortedSet(res):
		if !changed {
			res = slices.Clone(x)
		}
		res = sortSet(res)
		changed = true
	}
	if len(res) == 0 {
		return nil, false, false
	}
	return res, true, !changed
}

func sortedKeyed(a []any, key string) bool {
	for i := 1; i < len(a); i++ {
		if keyOf(a[i-1], key) > keyOf(a[i], key) {
			return false
		}
	}
	return true
}

// sortedSet: strictly increasing, so no duplicates either.
func sortedSet(a []any) bool {
	for i := 1; i < len(a); i++ {
		if !scalarLess(a[i-1], a[i]) {
			return false
		}
	}
	return true
}

func sortKeyed(a []any, key string) {
	slices.SortStableFunc(a, func(x, y any) int {
		return strings.Compare(keyOf(x, key), keyOf(y, key))
	})
}

func keyOf(e any, key string) string {
	if m, ok := e.(map[string]any); ok {
		return keyString(m[key])
	}
	return ""
}

func sortSet(a []any) []any {
	slices.SortStableFunc(a, func(x, y any) int {
		switch {
		case scalarLess(x, y):
			return -1
		case scalarLess(y, x):
			return 1
		}
		return 0
	})
	out := a[:0]
	for i, e := range a {
		if i > 0 && deepEqual(e, out[len(out)-1]) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func scalarLess(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return as < bs
	}
	return canonicalJSON(a) < canonicalJSON(b)
}

func hasValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

// canonical turns any Go number into a canonical json.Number: integers
// without fraction or exponent, other values in the shortest form that
// round-trips. Non-numbers are returned unchanged.
func canonical(v any) any {
	switch x := v.(type) {
	case json.Number:
		return canonicalNumber(x)
	case int:
		return json.Number(strconv.Itoa(x))
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case uint64:
		return json.Number(strconv.FormatUint(x, 10))
	case float64:
		return floatNumber(x)
	case float32:
		return floatNumber(float64(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	}
	return v
}

func canonicalNumber(n json.Number) json.Number {
	s := string(n)
	if isPlainInt(s) {
		return n
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return json.Number(strconv.FormatInt(i, 10)) // "+5", "-0", "007"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return n // not a number at all; leave it for validation to report
	}
	return floatNumber(f)
}

// isPlainInt: optional '-', then digits without a leading zero (or "0").
func isPlainInt(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
		if s == "0" {
			return false
		}
	}
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func floatNumber(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return json.Number(strconv.FormatInt(int64(f), 10))
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// deepEqual compares two normalised trees.
func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	case nil:
		return b == nil
	}
	return canonicalJSON(a) == canonicalJSON(b)
}

// canonicalJSON is the JSON text of v with sorted keys and no HTML escaping.
func canonicalJSON(v any) string {
	b, err := marshal(v)
	if err != nil {
		return "<unencodable>"
	}
	return string(b)
}

// marshal encodes v compactly, map keys sorted, without escaping <, > and &
// (request bodies stay readable; the API does not care).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Digest is "sha256:<hex>" of the canonical JSON of Normalize(settings). Two
// settings with the same digest are the same job configuration; apply of a
// saved plan compares it with each job's Action.LiveDigest.
func Digest(settings map[string]any) string {
	return digestNormalized(Normalize(settings))
}

func digestNormalized(n map[string]any) string {
	b, err := marshal(n)
	if err != nil {
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
