package schema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// taskTypes are the Task fields that say what a task runs; a task has
// exactly one. The most used come first: messages name the first few.
var taskTypes = []string{
	"notebook_task", "spark_python_task", "python_wheel_task", "sql_task", "dbt_task", "run_job_task",
	"pipeline_task", "spark_jar_task", "spark_submit_task", "condition_task", "for_each_task",
	"clean_rooms_notebook_task", "dashboard_task", "power_bi_task", "alert_task", "ai_runtime_task",
	"dbt_platform_task", "dbt_cloud_task", "gen_ai_compute_task", "python_operator_task",
}

// computeFields are the ways a task chooses where it runs; at most one.
var computeFields = []string{"existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key"}

// maxNameBytes is the Jobs API's limit on a job name, in UTF-8 bytes.
const maxNameBytes = 4096

// maxRequestBytes is the Jobs API's largest request, 10 MB (jobs-api.md
// §6.4; the emulator answers 400 past it). A job whose strings alone are
// longer can never be created; paths and other strings have no documented
// limit of their own, so this is the one they are held to.
const maxRequestBytes = 10 << 20

// textFacts is what one walk over a job's strings tells its checks: the
// size of its text (keys included), and whether it uses an Asset Bundle
// substitution or refers to another job (${jobs.KEY.id}). One walk
// instead of three: it runs for every job a Load reads.
type textFacts struct {
	size      int
	bundleRef bool
	jobRef    bool
}

func (t *textFacts) scan(v any) {
	switch x := v.(type) {
	case string:
		t.size += len(x)
		if strings.Contains(x, "${") {
			t.bundleRef = t.bundleRef || bundleRefAt(x) >= 0
			t.jobRef = t.jobRef || strings.HasPrefix(x, "${jobs.")
		}
	case []any:
		for _, e := range x {
			t.scan(e)
		}
	case map[string]any:
		for k, e := range x {
			t.size += len(k)
			t.scan(e)
		}
	}
}

// longestText returns the pointer and length of the longest string under v.
func longestText(v any, ptr string) (at string, size int) {
	switch x := v.(type) {
	case string:
		return ptr, len(x)
	case []any:
		for i, e := range x {
			if p, s := longestText(e, ptr+"/"+strconv.Itoa(i)); s > size {
				at, size = p, s
			}
		}
	case map[string]any:
		for k, e := range x {
			if p, s := longestText(e, ptr+"/"+escapePtr(k)); s > size {
				at, size = p, s
			}
		}
	}
	return at, size
}

// checker runs the semantic checks of one job: the rules that JSON Schema
// cannot express (uniqueness, references between parts of the job, the
// task graph, cron syntax). It tolerates values of the wrong type, which
// the schema pass reports.
type checker struct {
	job      *Job
	v        map[string]any
	settings []string // allowed top-level fields, for lifecycle paths
	out      []finding
}

func (c *checker) add(ptr, format string, args ...any) {
	c.out = append(c.out, finding{ptr: ptr, msg: fmt.Sprintf(format, args...)})
}

// line is the line a pointer's value is written on, for messages that name
// a second place in the same file.
func (c *checker) line(ptr string) int { return c.job.PosOf(ptr).Line }

// checkJob runs the semantic checks of one job; facts are those of its
// value (textFacts.scan).
func checkJob(j *Job, value any, facts textFacts, settingsFields []string, inBundle bool) []finding {
	v, ok := value.(map[string]any)
	if !ok {
		return nil
	}
	c := &checker{job: j, v: v, settings: settingsFields}
	if !inBundle && facts.bundleRef {
		c.bundleRefs(v, "")
	}
	if name, ok := v["name"].(string); ok && len(name) > maxNameBytes {
		c.add("/name", "is %d bytes long; the Jobs API allows at most %d bytes", len(name), maxNameBytes)
	}
	if total := facts.size; total > maxRequestBytes {
		ptr, size := longestText(v, "")
		// Passed on, the job would fail at apply, after other jobs were
		// written.
		c.add(ptr, "the job's text adds up to %s (this value alone is %s); the Jobs API takes requests of at most %s: shorten it", sizeText(int64(total)), sizeText(int64(size)), sizeText(maxRequestBytes))
	}
	clusters := c.keys("/job_clusters", "job_cluster_key")
	envs := c.keys("/environments", "environment_key")
	c.keys("/parameters", "name")
	c.tasks(clusters, envs)
	c.environmentPaths()
	c.triggers()
	c.gitSource()
	c.permissions()
	c.lifecycle()
	return c.out
}

// keys returns the keys of a keyed array, reporting duplicates.
func (c *checker) keys(ptr, field string) map[string]bool {
	arr, _ := c.v[ptr[1:]].([]any)
	if len(arr) == 0 {
		return nil // (reads as empty)
	}
	out := make(map[string]bool, len(arr))
	for i, e := range arr {
		m, _ := e.(map[string]any)
		k, ok := m[field].(string)
		if !ok {
			continue
		}
		if out[k] {
			first := 0
			for j, f := range arr[:i] {
				if fm, _ := f.(map[string]any); fm[field] == k {
					first = j
					break
				}
			}
			c.add(fmt.Sprintf("%s/%d/%s", ptr, i, field), "duplicate %s %s (first at line %d)", field, quote(k), c.line(fmt.Sprintf("%s/%d/%s", ptr, first, field)))
			continue
		}
		out[k] = true
	}
	return out
}

func (c *checker) tasks(clusters, envs map[string]bool) {
	tasks, _ := c.v["tasks"].([]any)
	byKey := map[string]int{}
	for i, t := range tasks {
		m, _ := t.(map[string]any)
		k, ok := m["task_key"].(string)
		if !ok {
			continue
		}
		if first, dup := byKey[k]; dup {
			c.add(fmt.Sprintf("/tasks/%d/task_key", i), "duplicate task_key %s (first at line %d)", quote(k), c.line(fmt.Sprintf("/tasks/%d/task_key", first)))
			continue
		}
		byKey[k] = i
	}
	hasGit := c.v["git_source"] != nil
	for i, t := range tasks {
		m, ok := t.(map[string]any)
		if !ok {
			continue
		}
		ptr := "/tasks/" + strconv.Itoa(i)
		c.task(ptr, m, clusters, envs, hasGit)
		if fe, ok := m["for_each_task"].(map[string]any); ok {
			if inner, ok := fe["task"].(map[string]any); ok {
				c.task(ptr+"/for_each_task/task", inner, clusters, envs, hasGit)
				if _, nested := inner["for_each_task"]; nested {
					c.add(ptr+"/for_each_task/task/for_each_task", "a for_each_task cannot run another for_each_task")
				}
			}
		}
		c.dependsOn(ptr, m, tasks, byKey)
	}
	c.cycles(tasks, byKey)
}

// task checks one task (or the task inside a for_each_task).
func (c *checker) task(ptr string, m map[string]any, clusters, envs map[string]bool, hasGit bool) {
	var types []string
	for _, t := range taskTypes {
		if _, ok := m[t]; ok {
			types = append(types, t)
		}
	}
	switch {
	case len(types) == 0 && !misspeltTaskType(m):
		c.add(ptr, "no task type: set one of %s, ... (%d task types; jobsync schema lists them all)",
			strings.Join(taskTypes[:6], ", "), len(taskTypes))
	case len(types) > 1:
		c.add(ptr+"/"+types[1], "a task runs exactly one thing, but this one sets %s", joinAnd(types))
	}
	var compute []string
	for _, f := range computeFields {
		if _, ok := m[f]; ok {
			compute = append(compute, f)
		}
	}
	if len(compute) > 1 {
		c.add(ptr+"/"+compute[1], "%s cannot be set together: a task runs on one kind of compute", joinAnd(compute))
	}
	if k, ok := m["job_cluster_key"].(string); ok && !clusters[k] {
		c.add(ptr+"/job_cluster_key", "job_cluster_key %s is not defined in job_clusters%s", quote(k), didYouMean(k, keysOf(clusters)))
	}
	if k, ok := m["environment_key"].(string); ok && !envs[k] {
		c.add(ptr+"/environment_key", "environment_key %s is not defined in environments%s", quote(k), didYouMean(k, keysOf(envs)))
	}
	c.workspacePaths(ptr, m, hasGit)
	if !hasGit {
		c.libraryPaths(ptr, m)
	}
	if !hasGit {
		for _, p := range gitSources {
			if lookupSegs(m, p.segs...) == "GIT" {
				c.add(ptr+"/"+p.path, "source is GIT but the job has no git_source")
			}
		}
	}
}

// gitSources are the fields of a task that say where its file is read.
var gitSources = func() []struct {
	path string
	segs []string
} {
	var out []struct {
		path string
		segs []string
	}
	for _, p := range []string{"notebook_task/source", "spark_python_task/source", "dbt_task/source", "sql_task/file/source", "gen_ai_compute_task/source"} {
		out = append(out, struct {
			path string
			segs []string
		}{p, strings.Split(p, "/")})
	}
	return out
}()

// lookupSegs is lookup of the pointer made of segs (map keys only).
func lookupSegs(v any, segs ...string) any {
	for _, s := range segs {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[s]
	}
	return v
}

// workspacePaths refuses a relative path where the file is read from the
// workspace: there it "must be absolute and begin with a slash", while a
// relative path names a file of git_source's repository (Jobs API,
// NotebookTask.notebook_path, SparkPythonTask.python_file,
// SqlTaskFile.path; a task without source reads from git_source when the
// job has one). A bundle's relative paths are its local files, uploaded
// and made absolute before this check; a relative path left here is a
// bundle job file read without its bundle, or a typo, and the API would
// take it and fail the run.
func (c *checker) workspacePaths(ptr string, m map[string]any, hasGit bool) {
	for _, f := range [...]struct{ task, file, field, what string }{
		{"notebook_task", "", "notebook_path", "notebook"},
		{"spark_python_task", "", "python_file", "Python file"},
		{"sql_task", "file", "path", "SQL file"},
	} {
		// Plain map reads: this runs for every task of every job.
		at, _ := m[f.task].(map[string]any)
		if f.file != "" {
			at, _ = at[f.file].(map[string]any)
		}
		s, ok := at[f.field].(string)
		if !ok || s == "" || strings.HasPrefix(s, "/") || strings.Contains(s, "${") {
			continue
		}
		if f.what == "Python file" && strings.Contains(s, ":/") {
			continue // dbfs:/, s3://, abfss://: a URI
		}
		src, _ := at["source"].(string)
		if src == "GIT" || src == "" && hasGit {
			continue
		}
		fp := ptr + "/" + f.task
		if f.file != "" {
			fp += "/" + f.file
		}
		c.add(fp+"/"+f.field, "%s is a relative path, but this %s is read from the workspace, where a path starts with / (a relative path names a file of the job's git_source): write its workspace path; to have jobsync upload local files, read the job with its Asset Bundle (the folder of databricks.yml; README, Coming from Asset Bundles)", quote(s), f.what)
	}
}

// libraryPaths refuses a task library named by a relative path (whl, jar,
// requirements): the API takes a workspace path, a volume or a cloud URI
// there, and a relative path is a bundle's local file read without its
// bundle.
func (c *checker) libraryPaths(ptr string, m map[string]any) {
	libs, _ := m["libraries"].([]any)
	for i, l := range libs {
		lm, _ := l.(map[string]any)
		for _, f := range [...]string{"whl", "jar", "requirements"} {
			if s, ok := lm[f].(string); ok && relativeFile(s) {
				c.add(ptr+"/libraries/"+strconv.Itoa(i)+"/"+f, "%s is a relative path; a library is a workspace path (/Workspace/...), a volume (/Volumes/...) or a URI: write where it is; to have jobsync upload a local file, read the job with its Asset Bundle (the folder of databricks.yml; README, Coming from Asset Bundles)", quote(s))
			}
		}
	}
}

// environmentPaths does the same for the local dependencies of the job's
// environments (./dist/x.whl, -r ../requirements.txt); a package name
// (requests==2.32.0) is not a path.
func (c *checker) environmentPaths() {
	if c.v["git_source"] != nil {
		return
	}
	envs, _ := c.v["environments"].([]any)
	for i, e := range envs {
		em, _ := e.(map[string]any)
		spec, _ := em["spec"].(map[string]any)
		deps, _ := spec["dependencies"].([]any)
		for j, d := range deps {
			s, _ := d.(string)
			p := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "-r "), "-e "))
			if strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
				c.add("/environments/"+strconv.Itoa(i)+"/spec/dependencies/"+strconv.Itoa(j), "%s is a relative path; a dependency is a package, a workspace path (/Workspace/...), a volume (/Volumes/...) or a URI: write where it is; to have jobsync upload a local file, read the job with its Asset Bundle (the folder of databricks.yml; README, Coming from Asset Bundles)", quote(s))
			}
		}
	}
}

// relativeFile says whether s is a relative file path: not absolute, no
// URI scheme (dbfs:/, s3://), no substitution left.
func relativeFile(s string) bool {
	return s != "" && !strings.HasPrefix(s, "/") && !strings.Contains(s, ":/") && !strings.Contains(s, "${")
}

// bundleNamespaces are the first segments of the Asset Bundle substitutions
// that name something of a bundle (bundle_refs.go): in a job file read
// without its bundle, none of them can be resolved, and sent as written
// they would end up in the workspace as text.
var bundleNamespaces = []string{"${bundle.", "${workspace.", "${resources.", "${artifacts."}

// bundleRefAt is where s uses an Asset Bundle substitution, or -1.
func bundleRefAt(s string) int {
	if !strings.Contains(s, "${") {
		return -1
	}
	for _, ns := range bundleNamespaces {
		if i := strings.Index(s, ns); i >= 0 && (i == 0 || s[i-1] != '$') {
			return i
		}
	}
	return -1
}

// bundleRefs refuses an Asset Bundle substitution in a job that is not read
// as part of a bundle. (${var.NAME} of a jobsync.yaml is substituted before
// this check; one without a project is reported where it is substituted.)
func (c *checker) bundleRefs(v any, ptr string) {
	switch x := v.(type) {
	case string:
		i := bundleRefAt(x)
		if i < 0 || strings.HasSuffix(ptr, "/run_job_task/job_id") {
			return // (a job_id has a message of its own)
		}
		ref := x[i:]
		if end := strings.IndexByte(ref, '}'); end > 0 {
			ref = ref[:end+1]
		}
		c.add(ptr, "%s is an Asset Bundle substitution, and this job is not read as part of a bundle: run jobsync on the bundle's folder (the one holding databricks.yml), or write the value", ref)
	case []any:
		for i, e := range x {
			c.bundleRefs(e, ptr+"/"+strconv.Itoa(i))
		}
	case map[string]any:
		for k, e := range x {
			c.bundleRefs(e, ptr+"/"+escapePtr(k))
		}
	}
}

// misspeltTaskType reports whether a task has a field that is a typo of a
// task type ("notebok_task"): the schema pass reports it as an unknown
// field with the right name, and "no task type" would only repeat that.
func misspeltTaskType(m map[string]any) bool {
	for k := range m {
		if suggest(k, taskTypes) != "" {
			return true
		}
	}
	return false
}

func (c *checker) dependsOn(ptr string, m map[string]any, tasks []any, byKey map[string]int) {
	deps, _ := m["depends_on"].([]any)
	self, _ := m["task_key"].(string)
	for i, d := range deps {
		dm, _ := d.(map[string]any)
		k, ok := dm["task_key"].(string)
		if !ok {
			continue
		}
		// (The pointer is made only for a problem: this runs for every
		// dependency of every job.)
		p := func() string { return ptr + "/depends_on/" + strconv.Itoa(i) }
		switch idx, exists := byKey[k]; {
		case k == self:
			c.add(p()+"/task_key", "task %s depends on itself", quote(k))
		case !exists:
			c.add(p()+"/task_key", "depends on task %s, which does not exist%s", quote(k), didYouMean(k, keysOfInt(byKey)))
		case dependsEarlier(deps[:i], k):
			c.add(p()+"/task_key", "depends on %s twice", quote(k))
		default:
			if _, ok := dm["outcome"]; ok {
				target, _ := tasks[idx].(map[string]any)
				if _, cond := target["condition_task"]; !cond {
					c.add(p()+"/outcome", "outcome applies only to a dependency on a condition_task, and %s is not one", quote(k))
				}
			}
		}
	}
}

// dependsEarlier says whether one of deps (depends_on entries) names task
// k. A task has a few dependencies: a scan costs less than a map.
func dependsEarlier(deps []any, k string) bool {
	for _, d := range deps {
		if dm, _ := d.(map[string]any); dm["task_key"] == k {
			return true
		}
	}
	return false
}

// cycles reports each cycle of the depends_on graph once, naming it.
func (c *checker) cycles(tasks []any, byKey map[string]int) {
	if dependsBackward(tasks, byKey) {
		return // every edge points to an earlier task: no cycle
	}
	keys := keysOfInt(byKey)
	edges := map[string][]string{}
	for _, k := range keys {
		m, _ := tasks[byKey[k]].(map[string]any)
		deps, _ := m["depends_on"].([]any)
		for _, d := range deps {
			dm, _ := d.(map[string]any)
			if t, ok := dm["task_key"].(string); ok && t != k {
				if _, exists := byKey[t]; exists {
					edges[k] = append(edges[k], t)
				}
			}
		}
		sort.Strings(edges[k])
	}
	for _, cyc := range findCycles(keys, edges) {
		c.add(fmt.Sprintf("/tasks/%d/depends_on", byKey[cyc[0]]), "dependency cycle: %s (each depends on the next)", strings.Join(append(cyc, cyc[0]), " -> "))
	}
}

// dependsBackward says whether every dependency of every task names a task
// written before it, as tasks are usually written; the graph is then
// acyclic, since the list's order is a topological order of it.
func dependsBackward(tasks []any, byKey map[string]int) bool {
	for i, t := range tasks {
		m, _ := t.(map[string]any)
		deps, _ := m["depends_on"].([]any)
		for _, d := range deps {
			dm, _ := d.(map[string]any)
			k, _ := dm["task_key"].(string)
			if j, ok := byKey[k]; ok && j >= i {
				return false
			}
		}
	}
	return true
}

// findCycles returns one cycle for each strongly connected component of
// the graph that has more than one node (self-loops are reported
// elsewhere), each starting at its smallest node. Tarjan's algorithm, with
// an explicit stack so that a 1000-task chain cannot overflow anything.
func findCycles(nodes []string, edges map[string][]string) [][]string {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var sccs [][]string
	next := 0
	type frame struct {
		n string
		i int
	}
	for _, root := range nodes {
		if _, seen := index[root]; seen {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.i < len(edges[f.n]) {
				w := edges[f.n][f.i]
				f.i++
				if _, seen := index[w]; !seen {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[f.n] = min(low[f.n], index[w])
				}
				continue
			}
			n := f.n
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].n
				low[p] = min(low[p], low[n])
			}
			if low[n] == index[n] {
				var scc []string
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					scc = append(scc, w)
					if w == n {
						break
					}
				}
				if len(scc) > 1 {
					sccs = append(sccs, scc)
				}
			}
		}
	}
	var out [][]string
	for _, scc := range sccs {
		in := map[string]bool{}
		for _, n := range scc {
			in[n] = true
		}
		sort.Strings(scc)
		out = append(out, cycleFrom(scc[0], in, edges))
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// cycleFrom finds a shortest cycle through start inside one component
// (breadth-first, so the named cycle is as short as possible).
func cycleFrom(start string, in map[string]bool, edges map[string][]string) []string {
	prev := map[string]string{}
	queue := []string{start}
	visited := map[string]bool{start: true}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, w := range edges[n] {
			if !in[w] {
				continue
			}
			if w == start {
				path := []string{n}
				for path[0] != start {
					path = append([]string{prev[path[0]]}, path...)
				}
				return path
			}
			if !visited[w] {
				visited[w] = true
				prev[w] = n
				queue = append(queue, w)
			}
		}
	}
	return []string{start}
}

func (c *checker) triggers() {
	var set []string
	for _, f := range []string{"schedule", "continuous", "trigger"} {
		if _, ok := c.v[f]; ok {
			set = append(set, f)
		}
	}
	if len(set) > 1 {
		c.add("/"+set[1], "%s cannot be set together: a job is started by one of schedule, continuous or trigger", joinAnd(set))
	}
	if _, ok := c.v["triggers"]; ok && len(set) > 0 {
		c.add("/triggers", "triggers cannot be combined with %s; move it into triggers", joinAnd(set))
	}
	c.cron("/schedule/quartz_cron_expression")
	trs, _ := c.v["triggers"].([]any)
	for i := range trs {
		c.cron(fmt.Sprintf("/triggers/%d/schedule/quartz_cron_expression", i))
	}
}

func (c *checker) cron(ptr string) {
	if s, ok := lookup(c.v, ptr).(string); ok && s != "" {
		if err := checkQuartz(s); err != nil {
			c.add(ptr, "invalid Quartz cron expression %s: %v", quote(s), err)
		}
	}
}

func (c *checker) gitSource() {
	g, _ := c.v["git_source"].(map[string]any)
	var refs []string
	for _, f := range []string{"git_branch", "git_tag", "git_commit"} {
		if _, ok := g[f]; ok {
			refs = append(refs, f)
		}
	}
	if len(refs) > 1 {
		c.add("/git_source/"+refs[1], "%s cannot be set together; set one", joinAnd(refs))
	}
}

func (c *checker) permissions() {
	perms, _ := c.v["permissions"].([]any)
	seen := map[string]int{}
	owners := 0
	for i, p := range perms {
		m, _ := p.(map[string]any)
		ptr := "/permissions/" + strconv.Itoa(i)
		var who string
		for _, f := range []string{"user_name", "group_name", "service_principal_name"} {
			if s, ok := m[f].(string); ok {
				who = f + " " + strconv.Quote(s)
				break
			}
		}
		if who != "" {
			if first, dup := seen[who]; dup {
				c.add(ptr, "%s is granted twice (first at line %d); give each principal one permission_level", who, c.line(fmt.Sprintf("/permissions/%d", first)))
			}
			seen[who] = i
		}
		if m["permission_level"] == "IS_OWNER" {
			owners++
			if owners > 1 {
				c.add(ptr+"/permission_level", "a job has exactly one owner; IS_OWNER is granted more than once")
			}
			if _, ok := m["group_name"]; ok {
				c.add(ptr+"/permission_level", "a group cannot own a job; give IS_OWNER to a user or service principal")
			}
		}
	}
}

func (c *checker) lifecycle() {
	ic, _ := lookup(c.v, "/lifecycle/ignore_changes").([]any)
	for i, e := range ic {
		s, ok := e.(string)
		if !ok || s == "" {
			continue
		}
		head := s
		if i := strings.IndexAny(s, ".["); i >= 0 {
			head = s[:i]
		}
		if !contains(c.settings, head) {
			c.add(fmt.Sprintf("/lifecycle/ignore_changes/%d", i), "%q does not start with a job settings field%s", s, didYouMean(head, c.settings))
		}
	}
}

func didYouMean(s string, candidates []string) string {
	if sug := suggest(s, candidates); sug != "" {
		return fmt.Sprintf(" (did you mean %q?)", sug)
	}
	return ""
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keysOfInt(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
