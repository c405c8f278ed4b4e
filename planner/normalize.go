package planner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"sort"
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
	// kindWriteOnly: accepted on write and never returned on read. The
	// workspace's side is meaningless, so the field is compared with what the
	// lockfile recorded at the last apply: a change to it alone is sent, and
	// without a lockfile entry it is no change (there is nothing to compare).
	kindWriteOnly
	// kindComputedIf: every field of the object at Path is server-filled
	// (kindComputed) when the object sets the sibling field named in Value,
	// in the configuration or in the workspace. Path "*" is the scope's own
	// object.
	kindComputedIf
	// kindFreeMap: a map whose keys are the user's data, not API fields
	// (tags, spark_conf, parameters maps). Its entries are compared as
	// written: the all-empty rule, which is about fields, does not apply.
	kindFreeMap
	// kindAlias: the service rewrites some spellings to others on read;
	// Value maps each alias to the spelling it comes back as, and both sides
	// are compared in that spelling.
	kindAlias
	// kindAccepts: Value maps a requested value to the values the service
	// may resolve it to on read; a live value in that list is no change.
	kindAccepts
	// kindRename: a deprecated field the service reads as the field named in
	// Value; both sides are compared under the new name (when it is not set
	// as well).
	kindRename
)

// rule is one row of the normalisation table. Path is dotted and relative to
// the scope; each segment may list alternatives separated by '|'
// ("schedule|trigger.pause_status" is schedule.pause_status and
// trigger.pause_status), and a segment in double quotes is one map key that
// may hold dots. Evidence points at the fact: a section of
// ../shared/reference (jobs-api.md, peers.md), a file and lines of one of the
// two public catalogues at the commits FIDELITY.md names ([CLI]
// databricks/cli, [TF] databricks/terraform-provider-databricks), an
// acceptance test of the CLI that runs on real workspaces ([cloud]), or an
// issue; [inf] marks our inference and still names what it rests on.
// TestTableEvidence refuses a row without a source, and FIDELITY.md lists
// every row against both catalogues.
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

// generalRule is a rule that holds everywhere and is not a row.
type generalRule struct {
	name, text, evidence string
}

// generalRules are the rules of every comparison, whatever the field.
var generalRules = []generalRule{
	{"null", "null is the same as absent",
		"jobs-api.md §12.11: the API drops unknown and null fields silently; [CLI] bundle/direct/bundle_plan.go:638-651 allEmpty treats nil as empty"},
	{"empty", "an empty object or array is the same as absent (a task type such as spark_jar_task: {} excepted)",
		"jobs-api.md §7.1: GET adds email_notifications {} and webhook_notifications {}; [CLI] bundle/direct/bundle_plan.go:660-676 (empty slices, maps and structs)"},
	{"numbers", "numbers are canonical (integers without fraction or exponent)",
		"jobs-api.md §2, §12.15: ids and counts are JSON numbers; [inf] 3600 and 3600.0 are the same value to the API"},
	{"all-empty", "a field (not a map entry) whose configuration, last apply and workspace values are all empty (absent, \"\", false or 0) is no change, unless a default row says what absent means",
		"[CLI] bundle/direct/bundle_plan.go:406-408, 653-658: \"certain fields can change between \\\"\\\" and null when processed by backend\"; [TF] clusters/resource_cluster.go:60-89 removeZeroAwsEbsVolumeAttributes"},
}

// table is the normalisation table: every server default, read-only field,
// server-filled field and canonical form the planner knows about, with the
// general rules above. The "job" scope is JobSettings, "task" is every Task
// (including for_each_task.task, at any depth), "cluster" is every
// ClusterSpec inside a job (tasks[*].new_cluster, job_clusters[*].new_cluster).
var table = []rule{
	// JobSettings.
	{"job", "format", kindReadOnly, nil, "jobs-api.md §7.1, §12.17: input ignored, always MULTI_TASK on read; [CLI] bundle/direct/dresources/resources.yml:103-106; [TF] jobs/resource_job.go:532"},
	{"job", "name", kindDefault, "Untitled", "jobs-api.md §7.1: name defaults to \"Untitled\"; [TF] jobs/resource_job.go:538; [cloud] permissions/jobs/current_can_manage_run/out.plan.direct.txt:21"},
	{"job", "timeout_seconds", kindDefault, 0, "jobs-api.md §7.1: GET returns timeout_seconds 0 when unset; [cloud] permissions/jobs/current_can_manage_run/out.plan.direct.txt:26; [CLI] bundle/configsync/defaults.go:34"},
	{"job", "max_concurrent_runs", kindDefault, 1, "jobs-api.md §7.1: max_concurrent_runs defaults to 1 (0 is meaningful and kept); [TF] jobs/resource_job.go:571; [cloud] permissions/jobs/current_can_manage_run/out.plan.direct.txt:20"},
	{"job", "queue", kindDefault, map[string]any{"enabled": false}, "jobs-api.md §7.1, §8.2: no queue settings means queueing off (2.0/2.1 jobs read back without queue); what jobsync sends when the YAML omits queue is decided in Build; [TF] jobs/jobs_api_go_sdk.go:282-308"},
	{"job", "run_as", kindComputed, nil, "jobs-api.md §7.1, §7.4, §12.3: returned only when set, sticky across reset; Build handles it against the job owner; [CLI] bundle/direct/dresources/resources.yml:118-120; [TF] jobs/resource_job.go:528; [cloud] run_as/job_default/output.txt:96-99"},
	{"job", "run_as", kindAtomic, nil, "jobs-api.md §8.2: run_as is exactly one of user_name, service_principal_name, group_name"},
	{"job", "performance_target", kindComputed, nil, "jobs-api.md §7.1: PERFORMANCE_OPTIMIZED filled for serverless jobs; [CLI] bundle/configsync/defaults.go:38"},
	{"job", "effective_budget_policy_id|effective_usage_policy_id", kindReadOnly, nil, "jobs-api.md §7.1: output fields of Job, filled from an inferred policy (jobs-api-schema.md Job)"},
	{"job", "edit_mode|deployment", kindComputed, nil, "jobs-api.md §7.1: only if sent; Asset Bundles sends UI_LOCKED and {kind: BUNDLE, metadata_file_path} ([CLI] bundle/deploy/metadata/annotate_jobs.go:26-38; [cloud] permissions/jobs/current_can_manage_run/out.plan.direct.txt:12-16); left as the deploying tool set them unless the YAML sets them (FIDELITY.md gap 8)"},
	{"job", "email_notifications.no_alert_for_skipped_runs", kindDefault, false, "jobs-api.md §7.1: seen as {\"no_alert_for_skipped_runs\": false} on GET; [CLI] bundle/configsync/defaults.go:24,35"},
	{"job", "email_notifications." + webhookLists, kindSet, nil, "[inf] addresses are a set; jobs-api.md §7.2 reports reordering of the sibling webhook lists"},
	{"job", "webhook_notifications." + webhookLists, kindKeyed, "id", "jobs-api.md §7.2, §7.4: webhook lists come back in arbitrary order; keyed by id; [TF] jobs/resource_job.go:169-181"},
	{"job", "notification_settings.no_alert_for_skipped_runs|no_alert_for_canceled_runs", kindDefault, false, "[inf] false is the behaviour when unset (jobs-api-schema.md JobNotificationSettings)"},
	{"job", "schedule|trigger|continuous.pause_status", kindDefault, "UNPAUSED", "jobs-api.md §7.1: pause_status defaults to UNPAUSED; [TF] jobs/resource_job.go:535-537"},
	{"job", "git_source.git_snapshot", kindReadOnly, nil, "jobs-api.md §8.2: git_snapshot is output (jobs-api-schema.md GitSource)"},
	{"job", "git_source.git_provider", kindEnumFold, []string{"awsCodeCommit", "azureDevOpsServices", "bitbucketCloud", "bitbucketServer", "gitHub", "gitHubEnterprise", "gitLab", "gitLabEnterpriseEdition"}, "jobs-api.md §12.18: validated case-insensitively; canonical camelCase from jobs-api-schema.md GitSource"},
	{"job", "deployment.version_id", kindReadOnly, nil, "jobs-api.md §7.4: ignored entirely by DABs' direct engine; [CLI] bundle/direct/dresources/resources.yml:31-37"},
	{"job", "tags", kindFreeMap, nil, "jobs-api-schema.md JobSettings.tags: map<string,string>"},
	{"job", "tasks", kindKeyed, "task_key", "jobs-api.md §7.2, §12.8: tasks may come back reordered; keyed by task_key; [TF] jobs/resource_job.go:338-352 sorts them on read"},
	{"job", "tasks", kindScope, "task", "jobs-api-schema.md JobSettings.tasks: array<Task>"},
	{"job", "job_clusters", kindKeyed, "job_cluster_key", "jobs-api.md §7.4: keyed by job_cluster_key"},
	{"job", "job_clusters.new_cluster", kindScope, "cluster", "jobs-api-schema.md JobCluster.new_cluster: ClusterSpec"},
	{"job", "parameters", kindKeyed, "name", "jobs-api.md §7.4: keyed by name"},
	{"job", "environments", kindKeyed, "environment_key", "jobs-api.md §7.4: keyed by environment_key"},
	{"job", "environments.spec.client", kindRename, "environment_version", "jobs-api-schema.md compute.Environment: client is DEPRECATED, \"Use environment_version instead\" (the same value under its new name)"},

	// Task (tasks[*] and for_each_task.task).
	{"task", "run_if", kindDefault, "ALL_SUCCESS", "jobs-api.md §7.2: run_if ALL_SUCCESS on every task; [CLI] bundle/direct/dresources/resources.yml:108-116; [TF] jobs/resource_job.go:640-641"},
	{"task", "timeout_seconds", kindDefault, 0, "jobs-api.md §7.2: timeout_seconds 0; [CLI] bundle/configsync/defaults.go:43,51"},
	{"task", "disabled", kindDefault, false, "jobs-api.md §7.2: disabled false; [CLI] bundle/configsync/defaults.go:42,50"},
	{"task", "max_retries|min_retry_interval_millis", kindDefault, 0, "[inf] 0 is the behaviour when unset (jobs-api.md §8.3: 0 = never retry)"},
	{"task", "email_notifications.no_alert_for_skipped_runs", kindDefault, false, "jobs-api.md §7.2: email_notifications {} or {no_alert_for_skipped_runs: false}; [CLI] bundle/configsync/defaults.go:45,53"},
	{"task", "email_notifications." + webhookLists, kindSet, nil, "[inf] addresses are a set, as at job level (jobs-api.md §7.2 reports reordering of the sibling webhook lists)"},
	{"task", "webhook_notifications." + webhookLists, kindKeyed, "id", "jobs-api.md §7.2: webhook lists in arbitrary order; keyed by id; [TF] jobs/resource_job.go:344-351"},
	{"task", "notification_settings.no_alert_for_skipped_runs|no_alert_for_canceled_runs|alert_on_last_attempt", kindDefault, false, "[inf] false is the behaviour when unset (jobs-api-schema.md TaskNotificationSettings)"},
	{"task", "notebook_task|spark_python_task|dbt_task.source", kindSource, nil, "jobs-api.md §7.2: WORKSPACE, or GIT when the job has git_source; [CLI] bundle/direct/dresources/resources.yml:122-134; [TF] jobs/resource_job.go:522-525"},
	{"task", "sql_task.file.source", kindSource, nil, "jobs-api.md §7.2: WORKSPACE, or GIT when the job has git_source; [CLI] bundle/direct/dresources/resources.yml:131-132; [TF] jobs/resource_job.go:524"},
	{"task", "pipeline_task.full_refresh", kindDefault, false, "jobs-api.md §7.2: full_refresh false; [CLI] bundle/configsync/defaults.go:47"},
	{"task", "dbt_task.schema", kindDefault, "default", "jobs-api.md §7.2: dbt_task.schema \"default\"; [TF] jobs/resource_job.go:539-540"},
	{"task", "retry_on_timeout", kindComputed, nil, "jobs-api.md §7.2: server-computed; [TF] jobs/resource_job.go:163,243,529-530"},
	{"task", "spark_jar_task.run_as_repl", kindComputed, nil, "jobs-api.md §7.2: server-computed; [TF] jobs/resource_job.go:531; TF #4450"},
	{"task", "depends_on", kindKeyed, "task_key", "jobs-api.md §7.2, §12.8: depends_on re-ordered by the server; keyed by task_key; [TF] jobs/resource_job.go:346-349"},
	{"task", "new_cluster", kindScope, "cluster", "jobs-api-schema.md Task.new_cluster: ClusterSpec"},
	{"task", "for_each_task.task", kindScope, "task", "jobs-api.md §7.2: for_each_task.task gets the same defaults as a task; [CLI] bundle/configsync/defaults.go:49-54"},
	{"task", taskTypes, kindKeepEmpty, nil, "jobs-api.md §8.4: exactly one task type per task; an empty one (spark_jar_task: {}) still selects it"},
	{"task", "notebook_task.base_parameters", kindFreeMap, nil, "jobs-api-schema.md NotebookTask.base_parameters: map<string,string>"},
	{"task", "python_wheel_task.named_parameters", kindFreeMap, nil, "jobs-api-schema.md PythonWheelTask.named_parameters: map<string,string>"},
	{"task", "run_job_task.job_parameters|notebook_params|python_named_params|sql_params", kindFreeMap, nil, "jobs-api-schema.md RunJobTask: map<string,string> parameters"},
	{"task", "sql_task|pipeline_task.parameters", kindFreeMap, nil, "jobs-api-schema.md SqlTask.parameters, PipelineTask.parameters: map<string,string>"},
	{"task", "clean_rooms_notebook_task.notebook_base_parameters", kindFreeMap, nil, "jobs-api-schema.md CleanRoomsNotebookTask.notebook_base_parameters: map<string,string>"},
	{"task", "dashboard_task.filters", kindFreeMap, nil, "jobs-api-schema.md DashboardTask.filters: map<string,string>"},

	// ClusterSpec inside jobs.
	{"cluster", "*", kindComputedIf, "policy_id", "a cluster policy fills in and fixes any field, with or without apply_policy_default_values (cli #6512, cli #5179; the bundle engine skips remote additions under policy_id since cli PR #6531; [TF] jobs/resource_job.go:547-564 and jobs/jobs_api_go_sdk.go:164-198 for the same problem)"},
	{"cluster", "aws_attributes|azure_attributes|gcp_attributes", kindComputed, nil, "jobs-api.md §7.3: filled by the server; [CLI] bundle/direct/dresources/resources.yml:39-60; [TF] clusters/resource_cluster.go:121-153,406-408"},
	{"cluster", "data_security_mode", kindComputed, nil, "jobs-api.md §7.3: SINGLE_USER when omitted, varies by workspace; [CLI] bundle/direct/dresources/resources.yml:136-139"},
	{"cluster", "data_security_mode", kindAlias, map[string]string{"DATA_SECURITY_MODE_DEDICATED": "SINGLE_USER", "DATA_SECURITY_MODE_STANDARD": "USER_ISOLATION"}, "[TF] clusters/resource_cluster.go:109-119: \"These are aliases\", read back as SINGLE_USER and USER_ISOLATION"},
	{"cluster", "data_security_mode", kindAccepts, map[string][]string{"DATA_SECURITY_MODE_AUTO": {"SINGLE_USER", "USER_ISOLATION"}}, "[TF] clusters/resource_cluster.go:114: DATA_SECURITY_MODE_AUTO reads back as SINGLE_USER or USER_ISOLATION"},
	{"cluster", "enable_elastic_disk|enable_local_disk_encryption|node_type_id|driver_node_type_id|driver_instance_pool_id", kindComputed, nil, "jobs-api.md §7.3: may be computed from policies/pools; [CLI] bundle/direct/dresources/resources.yml:72-101; [TF] clusters/resource_cluster.go:376-380; TF #3560"},
	{"cluster", "custom_tags|cluster_log_conf|single_user_name", kindComputed, nil, "jobs-api.md §7.3: often injected by cluster policies; [CLI] bundle/configsync/defaults.go:62-69; [CLI] bundle/direct/dresources/resources.yml:647-649 (single_user_name, cli #4418)"},
	{"cluster", "custom_tags|spark_conf|spark_env_vars", kindFreeMap, nil, "jobs-api-schema.md compute.ClusterSpec: map<string,string>"},
	{"cluster", `spark_conf."spark.databricks.delta.preview.enabled"`, kindComputed, nil, "legacy injection on job clusters; [TF] jobs/resource_job.go:912-923 and clusters/resource_cluster.go:99-107,405 suppress it"},
	{"cluster", "apply_policy_default_values", kindWriteOnly, nil, "jobs-api.md §7.3: accepted but never returned on GET; [CLI] bundle/direct/dresources/resources.yml:62-70 (not_returned_by_api); cli PR #5731"},
	{"cluster", "apply_policy_default_values", kindDefault, false, "jobs-api-schema.md compute.ClusterSpec.apply_policy_default_values: false applies only the policy's fixed values, as when unset"},
	{"cluster", "workload_type.clients.notebooks|jobs", kindDefault, true, "[TF] clusters/resource_cluster.go:283-293 (\"These default to true if not set\"), 388-390"},
	{"cluster", "num_workers", kindDefault, 0, "jobs-api.md §7.3, §12.5: 0 is meaningful (single node) and always sent; absent and 0 compare equal so a read that omits the zero is no change; [TF] clusters/resource_cluster.go:276-308,420"},
}

// node is the compiled form of the table: a trie over field names.
type node struct {
	kids map[string]*node

	readOnly     bool
	writeOnly    bool
	mayWriteOnly bool // a write-only field may be at or below this node
	hasDefault   bool
	dflt         any
	computed     bool
	computedWhen string // every child is computed when this sibling is set
	key          string // keyed array: the key field
	set          bool
	fold         map[string]string // lower-case -> canonical spelling
	alias        map[string]string // alias -> spelling read back
	accepts      map[string][]string
	rename       string   // this field is read as the sibling named here
	renames      []string // children that have a rename (checked first)
	freeMap      bool
	source       bool
	keepEmpty    bool
	atomic       bool
	scope        *node // the value's scope root (task or cluster), if any
	scopeName    string
	rows         []int // indexes into table of the rows that made this node
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
	for i, r := range t {
		root := roots[r.scope]
		if root == nil {
			panic("planner: normalisation table row with unknown scope " + r.scope) // programming error in the table
		}
		leaves := []*node{root}
		if r.path != "*" {
			leaves = expand(root, splitTablePath(r.path))
		}
		for _, leaf := range leaves {
			leaf.rows = append(leaf.rows, i)
			switch r.kind {
			case kindDefault:
				leaf.hasDefault = true
				leaf.dflt = canonical(r.value)
			case kindReadOnly:
				leaf.readOnly = true
			case kindWriteOnly:
				leaf.writeOnly = true
			case kindComputed:
				leaf.computed = true
			case kindComputedIf:
				leaf.computedWhen = r.value.(string)
			case kindKeyed:
				leaf.key = r.value.(string)
			case kindSet:
				leaf.set = true
			case kindEnumFold:
				leaf.fold = map[string]string{}
				for _, v := range r.value.([]string) {
					leaf.fold[strings.ToLower(v)] = v
				}
			case kindAlias:
				leaf.alias = r.value.(map[string]string)
			case kindAccepts:
				leaf.accepts = r.value.(map[string][]string)
			case kindRename:
				leaf.rename = r.value.(string)
			case kindFreeMap:
				leaf.freeMap = true
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
		for name, k := range n.kids {
			if k.rename != "" {
				n.renames = append(n.renames, name)
			}
			link(k, seen)
		}
		sort.Strings(n.renames)
	}
	seen := map[*node]bool{}
	for _, r := range roots {
		link(r, seen)
	}
	// mayWriteOnly, to a fixed point over the (cyclic) graph: the differ
	// must walk into a subtree that could hold a write-only field even when
	// live and desired are equal, since the lockfile may hold it alone.
	for changed := true; changed; {
		changed = false
		for n := range seen {
			if n.mayWriteOnly {
				continue
			}
			may := n.writeOnly || (n.scope != nil && n.scope.mayWriteOnly)
			for _, k := range n.kids {
				may = may || k.mayWriteOnly
			}
			if may {
				n.mayWriteOnly, changed = true, true
			}
		}
	}
	return compiled{job: roots["job"], task: roots["task"], cluster: roots["cluster"]}
}

// splitTablePath splits a table path at dots outside double quotes and
// unquotes quoted segments (map keys that hold dots).
func splitTablePath(p string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '"':
			quoted = !quoted
		case c == '.' && !quoted:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String())
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
	// inPlace: the tree is the caller's to change (NormalizeOwned), so
	// what changes is changed where it is instead of copied.
	inPlace bool
}

// NormalizeOwned is Normalize of a tree that nothing else holds (a live
// job's settings just decoded for this plan): it changes the tree itself
// and returns it, allocating nothing for what it drops, sorts or renames.
// Normalize copies on write, for trees that others hold.
func NormalizeOwned(settings map[string]any) map[string]any {
	if settings == nil {
		return map[string]any{}
	}
	z := normalizer{git: hasValue(settings["git_source"]), inPlace: true}
	out, _ := z.object(rules.job, settings)
	return out
}

func (z *normalizer) cloneMap(m map[string]any) map[string]any {
	if z.inPlace {
		return m // deleting and setting keys of a map while ranging over it is defined
	}
	return maps.Clone(m)
}

// prefix is a slice holding x[:i] to append the rest to: x's own array in
// place (what is appended at len(out) <= i replaces an element already read).
func (z *normalizer) prefix(x []any, i int) []any {
	if z.inPlace {
		return x[:i]
	}
	return append(make([]any, 0, len(x)), x[:i]...)
}

func (z *normalizer) cloneSlice(x []any) []any {
	if z.inPlace {
		return x
	}
	return slices.Clone(x)
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
	// A deprecated field is compared under its new name (kindRename).
	var renames []string
	if n != nil {
		renames = n.renames
	}
	for _, k := range renames {
		v, ok := m[k]
		if !ok {
			continue
		}
		to := n.child(k).rename
		if out == nil {
			out = z.cloneMap(m)
		}
		delete(out, k)
		if _, set := m[to]; !set {
			out[to] = v
		}
	}
	if out != nil {
		// Renamed: normalise the renamed copy (its keys all still need
		// the loop below).
		o, _ := z.object(n, out)
		return o, false
	}
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
			out = z.cloneMap(m)
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
		if n != nil && n.alias != nil {
			if c, ok := n.alias[x]; ok {
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
					out = z.prefix(x, i)
				}
				continue
			}
			ne, same = nil, e == nil
		}
		switch {
		case out != nil:
			out = append(out, ne)
		case !same:
			out = z.prefix(x, i)
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
			res = z.cloneSlice(x)
		}
		sortKeyed(res, n.key)
		changed = true
	case set && !sortedSet(res):
		if !changed {
			res = z.cloneSlice(x)
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
