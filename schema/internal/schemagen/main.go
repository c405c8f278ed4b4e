// Command schemagen writes schema/jobs.schema.json, the JSON schema of
// jobsync's YAML, from the field tables of the Jobs API type reference
// (shared/reference/jobs-api-schema.md).
//
// The reference gives, for every type reachable from JobSettings, each
// field's JSON name, type, and whether it is required. That is turned into
// JSON Schema mechanically; what the tables cannot say (free string maps
// versus objects, limits, "exactly one of" groups, job-id fields that also
// take a ${jobs.<key>.id} reference, read-only fields, jobsync's own fields)
// is added by the overrides below, each with its reason. Run it through
// `go generate ./schema` and commit the output; a test in package schema
// checks that the committed file matches what this program produces.
//
// It deliberately copies no field descriptions from the reference (they are
// other projects' sentences); it adds short notes of its own for preview and
// deprecated fields only.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

func main() {
	ref := flag.String("ref", "../../shared/reference/jobs-api-schema.md", "path of jobs-api-schema.md")
	out := flag.String("out", "jobs.schema.json", "file to write")
	projectOut := flag.String("project-out", "", "also write the schema of the project file (jobsync.yaml) here")
	flag.Parse()
	src, err := os.ReadFile(*ref)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
	b, err := Generate(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
	if *projectOut != "" {
		b, err := GenerateProject()
		if err == nil {
			err = os.WriteFile(*projectOut, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "schemagen:", err)
			os.Exit(1)
		}
	}
}

// field is one row of a reference table.
type field struct {
	name, typ, stage string
	required         bool
}

// typeDef is one "### Name" section: either a struct with fields or an enum.
type typeDef struct {
	name   string
	fields []field
	enum   []string
}

var (
	sectionRE = regexp.MustCompile(`(?m)^<a id="([^"]+)"></a>\n### ([^\n]+)\n`)
	rowRE     = regexp.MustCompile("^\\| `([^`]+)`( \\(query\\))? \\| ([^|]*) \\| ([^|]*) \\| ([^|]*) \\|")
	linkRE    = regexp.MustCompile(`\[([^\]]+)\]\(#([a-z0-9.-]+)\)`)
	enumRE    = regexp.MustCompile("enum: ((?:`[^`]+`(?:, )?)+)")
	tickRE    = regexp.MustCompile("`([^`]+)`")
)

func parse(src []byte) (map[string]*typeDef, map[string]string, error) {
	text := string(src)
	locs := sectionRE.FindAllStringSubmatchIndex(text, -1)
	defs := map[string]*typeDef{} // by anchor id
	names := map[string]string{}  // anchor id -> heading
	for i, l := range locs {
		id, name := text[l[2]:l[3]], text[l[4]:l[5]]
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := text[l[1]:end]
		d := &typeDef{name: name}
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "enum: ") {
				for _, m := range tickRE.FindAllStringSubmatch(line, -1) {
					d.enum = append(d.enum, m[1])
				}
				continue
			}
			m := rowRE.FindStringSubmatch(line)
			if m == nil || m[2] != "" { // query parameters are not body fields
				continue
			}
			d.fields = append(d.fields, field{
				name:     m[1],
				typ:      strings.TrimSpace(m[3]),
				required: strings.TrimSpace(m[4]) == "Y",
				stage:    strings.TrimSpace(m[5]),
			})
		}
		defs[id] = d
		names[id] = name
	}
	if defs["jobs-jobsettings"] == nil {
		return nil, nil, fmt.Errorf("no JobSettings section in the reference")
	}
	return defs, names, nil
}

// gen turns reference types into JSON Schema definitions.
type gen struct {
	defs  map[string]*typeDef
	names map[string]string
	out   map[string]any // definitions
	queue []string
}

func (g *gen) ref(id string) map[string]any {
	name := g.names[id]
	if _, ok := g.out[name]; !ok {
		g.out[name] = nil // reserve; filled when dequeued
		g.queue = append(g.queue, id)
	}
	return map[string]any{"$ref": "#/definitions/" + name}
}

const (
	minInt32 = -2147483648
	maxInt32 = 2147483647
)

func (g *gen) typ(t string) (map[string]any, error) {
	switch t {
	case "string":
		return map[string]any{"type": "string"}, nil
	case "boolean":
		return map[string]any{"type": "boolean"}, nil
	case "int32":
		return map[string]any{"type": "integer", "minimum": minInt32, "maximum": maxInt32}, nil
	case "int64":
		// JSON Schema bounds are numbers; json.Number keeps them exact.
		return map[string]any{"type": "integer", "minimum": json.Number("-9223372036854775808"), "maximum": json.Number("9223372036854775807")}, nil
	case "double":
		return map[string]any{"type": "number"}, nil
	case "map<string,string>":
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}, nil
	}
	if strings.HasPrefix(t, "array<") && strings.HasSuffix(t, ">") {
		items, err := g.typ(t[len("array<") : len(t)-1])
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	}
	if m := linkRE.FindStringSubmatch(t); m != nil && strings.HasPrefix(t, "[") {
		if enum := enumRE.FindStringSubmatch(t); enum != nil {
			var vals []any
			for _, v := range tickRE.FindAllStringSubmatch(enum[1], -1) {
				vals = append(vals, v[1])
			}
			return map[string]any{"type": "string", "enum": vals}, nil
		}
		if g.defs[m[2]] == nil {
			return nil, fmt.Errorf("type %q links to unknown section %q", t, m[2])
		}
		return g.ref(m[2]), nil
	}
	return nil, fmt.Errorf("unknown type %q", t)
}

func (g *gen) object(d *typeDef) (map[string]any, error) {
	props := map[string]any{}
	var req []any
	for _, f := range d.fields {
		s, err := g.typ(f.typ)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", d.name, f.name, err)
		}
		if note := stageNote(f.stage); note != "" {
			s["description"] = note
		}
		if strings.Contains(f.stage, "DEPRECATED") {
			s["deprecated"] = true
		}
		props[f.name] = s
		if f.required {
			req = append(req, f.name)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(req) > 0 {
		o["required"] = req
	}
	return o, nil
}

func stageNote(stage string) string {
	switch {
	case strings.Contains(stage, "PRIVATE_PREVIEW"):
		return "Private preview: workspaces without the preview may reject it."
	case strings.Contains(stage, "Public Preview"):
		return "Public preview."
	case strings.Contains(stage, "Beta"):
		return "Beta: workspaces without the feature may reject it."
	case strings.Contains(stage, "DEPRECATED"):
		return "Deprecated by Databricks; still accepted by the API."
	}
	return ""
}

// Generate returns the JSON schema document for the reference text src.
func Generate(src []byte) ([]byte, error) {
	defs, names, err := parse(src)
	if err != nil {
		return nil, err
	}
	g := &gen{defs: defs, names: names, out: map[string]any{}}
	// JobSettings becomes the "job" definition (with jobsync's own fields);
	// every type it reaches gets a definition under its reference name.
	job, err := g.object(defs["jobs-jobsettings"])
	if err != nil {
		return nil, err
	}
	for len(g.queue) > 0 {
		id := g.queue[0]
		g.queue = g.queue[1:]
		d := defs[id]
		if d.enum != nil {
			g.out[d.name] = map[string]any{"type": "string", "enum": toAny(d.enum)}
			continue
		}
		o, err := g.object(d)
		if err != nil {
			return nil, err
		}
		g.out[d.name] = o
	}
	g.out["job"] = job
	if err := applyOverrides(g.out); err != nil {
		return nil, err
	}
	doc := map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"$id":         "https://github.com/jobsync/jobsync/schema/jobs.schema.json",
		"title":       "jobsync job definitions",
		"description": "A jobsync YAML file: a map of job key to Databricks Jobs API 2.2 JobSettings, under jobs: or resources.jobs:, plus jobsync's own permissions and lifecycle fields. Generated by schema/internal/schemagen; do not edit.",
		"type":        "object",
		"properties": map[string]any{
			"jobs": map[string]any{"$ref": "#/definitions/jobMap"},
			"resources": map[string]any{
				"type":                 "object",
				"properties":           map[string]any{"jobs": map[string]any{"$ref": "#/definitions/jobMap"}},
				"additionalProperties": false,
			},
		},
		"additionalProperties": false,
		"definitions":          g.out,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// JobKeyPattern is the pattern of a job key (its identity in jobsync).
const JobKeyPattern = `^[a-z0-9_-]+$`

// ReferencePattern is a whole-value reference to another job's id.
const ReferencePattern = `^\$\{jobs\.[a-z0-9_-]+\.id\}$`

// applyOverrides adds what the reference tables cannot express.
func applyOverrides(defs map[string]any) error {
	var errs []string
	def := func(name string) map[string]any {
		d, _ := defs[name].(map[string]any)
		if d == nil {
			errs = append(errs, "no definition "+name)
			return map[string]any{"properties": map[string]any{}}
		}
		return d
	}
	prop := func(defName, field string) map[string]any {
		d := def(defName)
		p, _ := d["properties"].(map[string]any)[field].(map[string]any)
		if p == nil {
			errs = append(errs, "no property "+defName+"."+field)
			return map[string]any{}
		}
		return p
	}
	set := func(m map[string]any, kv ...any) {
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	drop := func(defName, field string) {
		prop(defName, field)
		delete(def(defName)["properties"].(map[string]any), field)
	}
	// exactlyOne makes an object require exactly one of the given fields.
	// When those are all of its fields, min/maxProperties say it simply;
	// otherwise a oneOf of required groups. x-message tells jobsync's error
	// translation which fields form the group (editors ignore it).
	exactlyOne := func(defName string, fields ...string) {
		d := def(defName)
		props := d["properties"].(map[string]any)
		var branches []any
		for _, f := range fields {
			prop(defName, f)
			branches = append(branches, map[string]any{"required": []any{f}})
		}
		if len(props) == len(fields) {
			set(d, "minProperties", 1, "maxProperties", 1)
		} else {
			d["oneOf"] = branches
		}
		d["x-exactly-one"] = toAny(fields)
	}

	// --- the job: JobSettings plus jobsync's own fields -----------------
	job := def("job")
	job["description"] = "A Databricks Jobs API 2.2 JobSettings object, plus jobsync's permissions and lifecycle."
	jp := job["properties"].(map[string]any)
	jp["permissions"] = map[string]any{"$ref": "#/definitions/permissions"}
	jp["lifecycle"] = map[string]any{"$ref": "#/definitions/lifecycle"}
	for name, d := range permissionDefs() {
		defs[name] = d
	}
	defs["lifecycle"] = map[string]any{
		"description": "jobsync: how jobsync treats this job; never sent to the API.",
		"type":        "object",
		"properties": map[string]any{
			"ignore_changes": map[string]any{
				"description": "Keyed paths (as printed in plans) that jobsync leaves alone once the job exists.",
				"type":        "array",
				"items":       map[string]any{"type": "string", "minLength": 1},
			},
			"prevent_destroy": map[string]any{
				"description": "Refuse to delete this job.",
				"type":        "boolean",
			},
			"moved_from": map[string]any{
				"description": "The key this job had before it was renamed: the rename keeps the job (its id and run history).",
				"type":        "string",
				"pattern":     JobKeyPattern,
			},
			"moved_tasks": map[string]any{
				"description":          "Renamed tasks, old task_key: new task_key; the task is renamed in one update that keeps the job.",
				"type":                 "object",
				"propertyNames":        map[string]any{"minLength": 1},
				"additionalProperties": map[string]any{"type": "string", "minLength": 1},
			},
		},
		"additionalProperties": false,
	}
	defs["jobMap"] = map[string]any{
		"type":                 "object",
		"propertyNames":        map[string]any{"pattern": JobKeyPattern},
		"additionalProperties": map[string]any{"$ref": "#/definitions/job"},
	}

	// Limits of the Jobs API (jobs-api.md §6.4). The 4096-byte name limit
	// counts bytes, which JSON Schema cannot; package schema checks it.
	set(prop("job", "tasks"), "maxItems", 1000)
	set(prop("job", "max_concurrent_runs"), "minimum", 0, "maximum", 1000)
	set(prop("job", "description"), "maxLength", 27700)
	set(prop("job", "timeout_seconds"), "minimum", 0)
	// tags: a free map of strings. The API allows 25, and jobsync adds its
	// ownership tag under "jobsync" to every job it manages, so the YAML
	// may hold 24.
	set(prop("job", "tags"),
		"maxProperties", 24,
		"x-limit-note", "the Jobs API allows 25 tags, and jobsync adds its own ownership tag to every job",
		"propertyNames", map[string]any{
			"not":       map[string]any{"const": "jobsync"},
			"x-message": `tag key "jobsync" is reserved: jobsync writes its ownership tag there; use another key`,
		})

	// A job id field also takes a reference to another job of the config,
	// resolved at apply time.
	jobID := map[string]any{
		"type":      []any{"integer", "string"},
		"minimum":   0,
		"maximum":   json.Number("9223372036854775807"),
		"pattern":   ReferencePattern,
		"x-message": "must be a job id (integer) or a reference to a job of this configuration, ${jobs.<key>.id}",
	}
	def("RunJobTask")["properties"].(map[string]any)["job_id"] = jobID
	prop("RunJobTask", "job_id")

	// Output-only: the commit a run used. The API ignores it on write.
	drop("GitSource", "git_snapshot")
	// The service matches git_provider in any letter case (its error lists
	// the names in lower case, jobs-api.md §3.2.1, §12.18), and the
	// Databricks CLI writes them so: an enum in any case, as a pattern of
	// letter classes that both Go and editors' JavaScript regexps read.
	// x-enum-fold keeps the canonical names for messages and completion.
	caseInsensitiveEnum(prop("GitSource", "git_provider"))
	delete(defs, "GitSnapshot")

	// Task limits and value ranges.
	set(prop("Task", "timeout_seconds"), "minimum", 0)
	set(prop("Task", "max_retries"), "minimum", -1)
	set(prop("Task", "min_retry_interval_millis"), "minimum", 0)
	// Key fields: 1-100 word characters or "-" (the Jobs 2.1 OpenAPI
	// document states this pattern for task_key and job_cluster_key).
	keyPattern := func(m map[string]any, what string) {
		set(m, "minLength", 1, "maxLength", 100, "pattern", `^[A-Za-z0-9_-]+$`,
			"x-message", what+` must be 1 to 100 letters, digits, "_" or "-"`)
	}
	keyPattern(prop("Task", "task_key"), "a task key")
	set(prop("TaskDependency", "task_key"), "minLength", 1)
	set(prop("TaskDependency", "outcome"), "enum", toAny([]string{"true", "false"}))
	set(prop("ForEachTask", "concurrency"), "minimum", 1)
	set(prop("ForEachTask", "inputs"), "minLength", 1)
	keyPattern(prop("JobCluster", "job_cluster_key"), "a job cluster key")
	set(prop("JobEnvironment", "environment_key"), "minLength", 1)
	set(prop("Webhook", "id"), "minLength", 1)
	set(prop("CronSchedule", "quartz_cron_expression"), "minLength", 1)
	set(prop("CronSchedule", "timezone_id"), "minLength", 1)
	set(prop("CronTriggerConfiguration", "quartz_cron_expression"), "minLength", 1)
	set(prop("CronTriggerConfiguration", "timezone_id"), "minLength", 1)
	set(prop("PeriodicTriggerConfiguration", "interval"), "minimum", 1)
	set(prop("JobParameterDefinition", "name"),
		"pattern", `^[A-Za-z0-9_.-]+$`,
		"x-message", `a parameter name may contain only letters, digits, "_", "-" and "."`)
	dbt := prop("DbtTask", "commands")
	set(dbt, "minItems", 1, "maxItems", 10)
	set(dbt["items"].(map[string]any),
		"pattern", `^dbt( |$)`,
		"x-message", `each dbt command starts with "dbt", e.g. "dbt run"`)
	set(prop("compute.ClusterSpec", "num_workers"), "minimum", 0)
	set(prop("compute.ClusterSpec", "autotermination_minutes"), "minimum", 0)
	set(prop("compute.AutoScale", "min_workers"), "minimum", 0)
	set(prop("compute.AutoScale", "max_workers"), "minimum", 1)

	// "Exactly one of" groups stated by the API's documentation.
	exactlyOne("compute.Library", "cran", "egg", "jar", "maven", "pypi", "requirements", "whl")
	exactlyOne("compute.InitScriptInfo", "abfss", "dbfs", "file", "gcs", "s3", "volumes", "workspace")
	exactlyOne("compute.ClusterLogConf", "dbfs", "s3", "volumes")
	exactlyOne("JobRunAs", "group_name", "service_principal_name", "user_name")
	exactlyOne("TriggerSettings", "file_arrival", "model", "periodic", "table_update")
	exactlyOne("TriggerConfiguration", "continuous", "file_arrival", "model", "periodic", "schedule", "table_update")
	exactlyOne("SqlTask", "alert", "dashboard", "file", "query")
	set(prop("TableUpdateTriggerConfiguration", "table_names"), "minItems", 1)

	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("overrides out of date with the reference: %s", strings.Join(errs, "; "))
	}
	return nil
}

// PermissionLevels are the levels of a job's access control list
// (jobs-api.md §3.4).
var PermissionLevels = []string{"CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"}

// permissionDefs are the definitions of jobsync's permissions, shared by the
// job schema and the project file schema: a grant, and the two ways of
// writing a list of them (a plain list, or a mapping with a mode).
func permissionDefs() map[string]any {
	grants := map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/permission"}}
	return map[string]any{
		"permission": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"user_name":              map[string]any{"type": "string", "minLength": 1},
				"group_name":             map[string]any{"type": "string", "minLength": 1},
				"service_principal_name": map[string]any{"type": "string", "minLength": 1},
				"permission_level":       map[string]any{"type": "string", "enum": toAny(PermissionLevels)},
			},
			"required":             []any{"permission_level"},
			"additionalProperties": false,
			"oneOf": []any{
				map[string]any{"required": []any{"user_name"}},
				map[string]any{"required": []any{"group_name"}},
				map[string]any{"required": []any{"service_principal_name"}},
			},
			"x-exactly-one": toAny([]string{"user_name", "group_name", "service_principal_name"}),
		},
		"permissions": map[string]any{
			"description": "jobsync: the job's direct grants. A list is managed in the project's mode " +
				"(authoritative unless the project file says otherwise); {mode, grants} chooses the mode: " +
				"authoritative (exactly these grants, plus the owner) or additive (ensure these, leave others).",
			"anyOf": []any{
				grants,
				map[string]any{
					"type": "object",
					"properties": map[string]any{
						"mode":   map[string]any{"type": "string", "enum": toAny([]string{"authoritative", "additive"})},
						"grants": grants,
					},
					"additionalProperties": false,
				},
			},
		},
	}
}

// VariablePattern is the form of a variable name: JOBSYNC_VAR_<name> must
// be a valid environment variable name.
const VariablePattern = `^[A-Za-z_][A-Za-z0-9_]*$`

// TargetPattern is the form of a target name; it becomes part of the
// ownership tag (<project>/<target>/<key>).
const TargetPattern = `^[a-z0-9_-]+$`

// ProjectPattern is the form of a project name in the project file; "/"
// separates the project from the target in the ownership tag.
const ProjectPattern = `^[A-Za-z0-9_.-]+$`

// GenerateProject returns the JSON schema of the project file, jobsync.yaml.
// It is written by hand: the file is jobsync's own, not the API's.
func GenerateProject() ([]byte, error) {
	str := func(desc string) map[string]any {
		return map[string]any{"type": "string", "minLength": 1, "description": desc}
	}
	defs := permissionDefs()
	defs["variable"] = map[string]any{
		"description": "A variable used as ${var.<name>} in job YAML and in overrides.",
		"type":        "object",
		"properties": map[string]any{
			"description": map[string]any{"type": "string"},
			"type": map[string]any{
				"description": "The value's type; inferred from default when left out (string when there is no default).",
				"type":        "string",
				"enum":        toAny([]string{"string", "integer", "number", "boolean", "list", "mapping"}),
			},
			"sensitive": map[string]any{
				"description": "The value is a secret: never shown, and only its digest is kept in the lockfile. Default: true for a string variable whose name contains token, password, secret, credential, api_key or private_key.",
				"type":        "boolean",
			},
			"default": map[string]any{
				"description": "The value when neither the target, JOBSYNC_VAR_<name> nor --var sets one.",
				"not":         map[string]any{"type": "null"},
				"x-message":   "a variable's default cannot be null; leave default out for a variable without one",
			},
		},
		"additionalProperties": false,
	}
	defs["workspace"] = map[string]any{
		"description": "The target's workspace; --host and --profile override it, --emulator ignores it.",
		"type":        "object",
		"properties": map[string]any{
			"host":    str("Workspace URL."),
			"profile": str("Profile of ~/.databrickscfg."),
			"root_path": str("Workspace folder of the target's workspace lease (<root_path>/state/jobsync.lock), which keeps two runs from " +
				"writing to the workspace at once: runs that must not overlap need the same one. Default /Workspace/Users/<current user>/.jobsync/<project scope>; " +
				"~/ and ${workspace.current_user.userName} stand for the current user's folder and name."),
		},
		"additionalProperties": false,
		"minProperties":        1,
	}
	defs["overrides"] = map[string]any{
		"description": "Job settings merged into the jobs of this target: all_jobs into every job, jobs.<key> into one (after all_jobs).",
		"type":        "object",
		"properties": map[string]any{
			"all_jobs": map[string]any{"type": "object", "description": "Merged into every job."},
			"jobs": map[string]any{
				"type":                 "object",
				"propertyNames":        map[string]any{"pattern": JobKeyPattern, "x-message": "a job key uses lower-case letters, digits, \"_\" and \"-\""},
				"additionalProperties": map[string]any{"type": "object"},
			},
		},
		"additionalProperties": false,
	}
	defs["target"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"default":        map[string]any{"type": "boolean", "description": "Use this target when neither --target nor JOBSYNC_TARGET names one."},
			"workspace":      map[string]any{"$ref": "#/definitions/workspace"},
			"lockfile":       str("Lockfile path, relative to the project file's directory and inside it (default jobsync.<target>.lock.json); --lockfile puts it elsewhere."),
			"variables":      map[string]any{"type": "object", "description": "Values of declared variables for this target."},
			"pause_triggers": map[string]any{"type": "boolean", "description": "Set pause_status: PAUSED on every job's schedule, trigger and continuous (overrides win)."},
			"name_prefix":    map[string]any{"type": "string", "description": "Prepended to every job's name."},
			"overrides":      map[string]any{"$ref": "#/definitions/overrides"},
		},
		"additionalProperties": false,
	}
	globList := map[string]any{"type": "array", "items": map[string]any{"type": "string", "minLength": 1}}
	doc := map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"$id":         "https://github.com/jobsync/jobsync/schema/project.schema.json",
		"title":       "jobsync project file",
		"description": "jobsync.yaml: the project name, variables, project-wide permissions and targets. Generated by schema/internal/schemagen; do not edit.",
		"type":        "object",
		"properties": map[string]any{
			"project": map[string]any{
				"description": "The project name in the ownership tag (jobsync: <project>[/<target>]/<key>); --project and JOBSYNC_PROJECT win over it.",
				"type":        "string",
				"pattern":     ProjectPattern,
				"x-message":   `a project name may contain only letters, digits, "_", "." and "-"`,
			},
			"variables": map[string]any{
				"type":                 "object",
				"propertyNames":        map[string]any{"pattern": VariablePattern, "x-message": `a variable name starts with a letter or "_" and contains only letters, digits and "_"`},
				"additionalProperties": map[string]any{"$ref": "#/definitions/variable"},
			},
			"permissions": map[string]any{"$ref": "#/definitions/permissions"},
			"paths": map[string]any{
				"description": "Which *.yml/*.yaml files under the project directory are job files, as globs relative to it (* within a name, ** for any directories; a directory stands for everything under it). A list, or include:, names the files read when no path argument is given; exclude: names files never read from a directory, with or without path arguments.",
				"oneOf": []any{
					globList,
					map[string]any{
						"type":                 "object",
						"properties":           map[string]any{"include": globList, "exclude": globList},
						"additionalProperties": false,
					},
				},
			},
			"targets": map[string]any{
				"type":                 "object",
				"propertyNames":        map[string]any{"pattern": TargetPattern, "x-message": `a target name uses lower-case letters, digits, "_" and "-"`},
				"additionalProperties": map[string]any{"$ref": "#/definitions/target"},
			},
		},
		"patternProperties":    map[string]any{"^x-": map[string]any{}},
		"additionalProperties": false,
		"definitions":          defs,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// caseInsensitiveEnum turns an enum property into one that accepts its
// values in any letter case.
func caseInsensitiveEnum(m map[string]any) {
	var vals []string
	switch e := m["enum"].(type) {
	case []string:
		vals = e
	case []any:
		for _, v := range e {
			vals = append(vals, v.(string))
		}
	}
	alts := make([]string, len(vals))
	for i, v := range vals {
		var b strings.Builder
		for _, r := range v {
			lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
			if lo == up {
				b.WriteString(regexp.QuoteMeta(string(r)))
				continue
			}
			b.WriteString("[" + up + lo + "]")
		}
		alts[i] = b.String()
	}
	delete(m, "enum")
	m["pattern"] = "^(" + strings.Join(alts, "|") + ")$"
	m["examples"] = toAny(vals)
	m["x-enum-fold"] = toAny(vals)
}
