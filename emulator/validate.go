package emulator

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// taskTypes are the task type fields of a Task; exactly one must be set
// (§8.4).
var taskTypes = []string{
	"ai_runtime_task", "alert_task", "clean_rooms_notebook_task", "condition_task", "dashboard_task",
	"dbt_cloud_task", "dbt_platform_task", "dbt_task", "for_each_task", "gen_ai_compute_task",
	"notebook_task", "pipeline_task", "power_bi_task", "python_operator_task", "python_wheel_task",
	"run_job_task", "spark_jar_task", "spark_python_task", "spark_submit_task", "sql_task",
}

// gitProviders as listed, lower-case, in the service's message (§3.2.1 [cloud]
// acceptance/bundle/resources/jobs/no-git-provider); matched
// case-insensitively against the camelCase enum of the SDK (§12.18).
const gitProviders = "github,gitlab,bitbucketcloud,gitlabenterpriseedition,bitbucketserver,azuredevopsservices,githubenterprise,awscodecommit"

// Limits of §6.4.
const (
	maxTasks          = 1000
	maxTags           = 25
	maxConcurrentRuns = 1000
	maxNameBytes      = 4096
	maxDescription    = 27700
	maxDbtCommands    = 10
	maxIdempotencyLen = 64
)

// validateSettings checks complete job settings (after a create, a reset or
// the merge of an update) the way the service does (§11.4). Messages are the
// service's where a source quotes them; the others are assumed.
func validateSettings(st map[string]any) *apiError {
	if gs := getMap(st, "git_source"); gs != nil {
		p := strings.ToLower(getString(gs, "git_provider"))
		if p == "" || !slices.Contains(strings.Split(gitProviders, ","), p) {
			return invalidParam("git_source.git_provider must be one of: %s", gitProviders)
		}
	}
	if err := checkRequired(st, "JobSettings", "settings"); err != nil {
		return err
	}
	if n := len(getString(st, "name")); n > maxNameBytes {
		return invalidParam("The job name must be at most %d bytes long; it is %d bytes.", maxNameBytes, n)
	}
	if n := utf8.RuneCountInString(getString(st, "description")); n > maxDescription {
		return invalidParam("The job description must be at most %d characters long; it is %d.", maxDescription, n)
	}
	if n := len(getMap(st, "tags")); n > maxTags {
		return invalidParam("A job can have at most %d tags; it has %d.", maxTags, n)
	}
	if _, ok := st["max_concurrent_runs"]; ok {
		if n := getInt(st, "max_concurrent_runs"); n < 0 || n > maxConcurrentRuns {
			return invalidParam("max_concurrent_runs must be between 0 and %d; it is %d.", maxConcurrentRuns, n)
		}
	}
	if err := validateTriggers(st); err != nil {
		return err
	}
	if ra := getMap(st, "run_as"); ra != nil && countSet(ra, "user_name", "service_principal_name", "group_name") != 1 {
		// [SDK] JobRunAs: exactly one of user_name, service_principal_name, group_name.
		return invalidParam("run_as must set exactly one of user_name, service_principal_name, group_name.")
	}
	if err := uniqueKeys(st, "parameters", "name"); err != nil {
		return err
	}
	for _, p := range objects(st, "parameters") {
		if n := getString(p, "name"); !validParamName(n) {
			// [SDK] JobParameterDefinition.name: alphanumerics, _, -, .
			return invalidParam("Invalid job parameter name %q: only alphanumeric characters, '_', '-' and '.' are allowed.", n)
		}
	}
	if err := uniqueKeys(st, "environments", "environment_key"); err != nil {
		return err
	}
	if err := uniqueKeys(st, "job_clusters", "job_cluster_key"); err != nil {
		return err
	}
	return validateTasks(st, getList(st, "tasks"))
}

func validateTriggers(st map[string]any) *apiError {
	_, schedule := st["schedule"]
	_, continuous := st["continuous"]
	_, trigger := st["trigger"]
	if schedule && continuous {
		// [SDK] "Only one of schedule and continuous can be used".
		return invalidParam("Only one of schedule and continuous can be used.")
	}
	if _, ok := st["triggers"]; ok && (schedule || continuous || trigger) {
		// [SDK] JobSettings.triggers: "Cannot be set in the same request as
		// the legacy schedule, trigger, or continuous fields".
		return invalidParam("triggers cannot be set together with the legacy schedule, trigger or continuous fields.")
	}
	if sc := getMap(st, "schedule"); sc != nil {
		expr := getString(sc, "quartz_cron_expression")
		if err := checkQuartz(expr); err != nil {
			// [obs] MicrosoftDocs/azure-docs#44131.
			return invalidParam("Invalid quartz_cron_expression: %s. Databricks uses Quartz cron syntax (%v).", expr, err)
		}
	}
	if tr := getMap(st, "trigger"); tr != nil {
		if countSet(tr, "file_arrival", "periodic", "table_update", "model") != 1 {
			// [SDK] TriggerSettings; [TF] SetExactlyOneOf.
			return invalidParam("trigger must set exactly one of file_arrival, periodic, table_update, model.")
		}
	}
	return nil
}

func validateTasks(st map[string]any, tasks []any) *apiError {
	if len(tasks) > maxTasks {
		// [SDK] JobSettings.tasks: at most 1000 on write.
		return invalidParam("A job can have at most %d tasks; it has %d.", maxTasks, len(tasks))
	}
	if len(tasks) == 0 && len(getList(st, "job_clusters")) > 0 {
		// [CLI] acceptance/bundle/resources/jobs/create-error (§3.2.1).
		return invalidParam("Shared job cluster feature is only supported in multi-task jobs.")
	}
	if err := uniqueKeys(st, "tasks", "task_key"); err != nil {
		return err
	}
	clusters := keySet(st, "job_clusters", "job_cluster_key")
	envs := keySet(st, "environments", "environment_key")
	keys := keySet(st, "tasks", "task_key")
	for _, t := range tasks {
		tm := asMap(t)
		if err := validateTask(tm, clusters, envs); err != nil {
			return err
		}
		key := getString(tm, "task_key")
		for _, d := range objects(tm, "depends_on") {
			dk := getString(d, "task_key")
			if dk == key {
				return invalidParam("Task %s cannot depend on itself.", key)
			}
			if !keys[dk] {
				return invalidParam("Task %s depends on %s, which is not a task of this job.", key, dk)
			}
		}
	}
	if cyc := findCycle(tasks); cyc != "" {
		return invalidParam("The task dependency graph has a cycle: %s.", cyc)
	}
	return nil
}

func validateTask(t map[string]any, clusters, envs map[string]bool) *apiError {
	key := getString(t, "task_key")
	if n := countSet(t, taskTypes...); n != 1 {
		return invalidParam("Task %s must have exactly one task type (one of %s); it has %d.", key, strings.Join(taskTypes, ", "), n)
	}
	if countSet(t, "existing_cluster_id", "new_cluster", "job_cluster_key") > 1 {
		return invalidParam("Task %s must set at most one of existing_cluster_id, new_cluster, job_cluster_key.", key)
	}
	if k := getString(t, "job_cluster_key"); k != "" && !clusters[k] {
		return invalidParam("Task %s uses job_cluster_key %s, which is not a job cluster of this job.", key, k)
	}
	if k := getString(t, "environment_key"); k != "" && !envs[k] {
		return invalidParam("Task %s uses environment_key %s, which is not an environment of this job.", key, k)
	}
	if dbt := getMap(t, "dbt_task"); dbt != nil {
		// [SDK] DbtTask.commands: 1 to 10 commands, each starting with "dbt".
		cmds := getList(dbt, "commands")
		if len(cmds) == 0 || len(cmds) > maxDbtCommands {
			return invalidParam("Task %s: dbt_task.commands must hold 1 to %d commands.", key, maxDbtCommands)
		}
		for _, c := range cmds {
			if s, _ := c.(string); !strings.HasPrefix(s, "dbt") {
				return invalidParam("Task %s: every dbt command must start with \"dbt\"; got %q.", key, s)
			}
		}
	}
	if fe := getMap(t, "for_each_task"); fe != nil {
		if inner := getMap(fe, "task"); inner != nil {
			if getMap(inner, "for_each_task") != nil {
				return invalidParam("Task %s: a for_each_task cannot contain another for_each_task.", key)
			}
			return validateTask(inner, clusters, envs)
		}
	}
	return nil
}

// checkRequired reports the first missing required field (per the SDK model,
// where no omitempty means required) in the tree of typeName. The message
// shape is assumed.
func checkRequired(obj map[string]any, typeName, path string) *apiError {
	for _, name := range requiredFields[typeName] {
		if _, ok := obj[name]; !ok {
			return invalidParam("Missing required field: %s.%s", path, name)
		}
	}
	for _, name := range nestedFields[typeName] {
		v, ok := obj[name]
		if !ok {
			continue
		}
		ft := schemaTypes[typeName][name]
		if ft.kind == kObject {
			if err := checkRequired(asMap(v), ft.ref, path+"."+name); err != nil {
				return err
			}
			continue
		}
		arr, _ := v.([]any)
		for i, e := range arr {
			if err := checkRequired(asMap(e), ft.ref, fmt.Sprintf("%s.%s[%d]", path, name, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// requiredFields and nestedFields index schemaTypes for checkRequired: per
// type, its required fields and its object (or object array) fields, sorted
// for a deterministic first error. Computed once; never written after.
var requiredFields, nestedFields = func() (req, nested map[string][]string) {
	req, nested = map[string][]string{}, map[string][]string{}
	for typ, fields := range schemaTypes {
		for name, ft := range fields {
			if ft.required {
				req[typ] = append(req[typ], name)
			}
			if ft.kind == kObject || ft.kind == kArray && ft.elem == kObject {
				nested[typ] = append(nested[typ], name)
			}
		}
		slices.Sort(req[typ])
		slices.Sort(nested[typ])
	}
	return req, nested
}()

func uniqueKeys(st map[string]any, array, key string) *apiError {
	if dup := duplicateKey(getList(st, array), key); dup != "" {
		return invalidParam("Duplicate %s %q in %s: keys must be unique.", key, dup, array)
	}
	return nil
}

func keySet(st map[string]any, array, key string) map[string]bool {
	out := map[string]bool{}
	for _, e := range objects(st, array) {
		out[getString(e, key)] = true
	}
	return out
}

func countSet(m map[string]any, keys ...string) int {
	n := 0
	for _, k := range keys {
		if v, ok := m[k]; ok && v != "" {
			n++
		}
	}
	return n
}

func validParamName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// findCycle returns "a -> b -> a" when depends_on forms a cycle.
func findCycle(tasks []any) string {
	deps := map[string][]string{}
	var order []string
	for _, t := range tasks {
		tm := asMap(t)
		k := getString(tm, "task_key")
		order = append(order, k)
		for _, d := range objects(tm, "depends_on") {
			deps[k] = append(deps[k], getString(d, "task_key"))
		}
	}
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(k string) string
	visit = func(k string) string {
		switch state[k] {
		case active:
			i := slices.Index(stack, k)
			return strings.Join(append(slices.Clone(stack[i:]), k), " -> ")
		case done:
			return ""
		}
		state[k] = active
		stack = append(stack, k)
		for _, d := range deps[k] {
			if c := visit(d); c != "" {
				return c
			}
		}
		stack = stack[:len(stack)-1]
		state[k] = done
		return ""
	}
	for _, k := range order {
		if c := visit(k); c != "" {
			return c
		}
	}
	return ""
}
