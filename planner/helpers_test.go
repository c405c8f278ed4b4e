package planner_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// loadYAML reads a jobsync YAML document (jobs: key -> JobSettings plus
// permissions and lifecycle) into schema.Jobs with positions, the way the
// schema package does, without its validation: planner tests must not
// depend on another package's checks.
func loadYAML(t testing.TB, file string, data []byte) []*schema.Job {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	var jobsNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "jobs" {
			jobsNode = root.Content[i+1]
		}
	}
	if jobsNode == nil {
		t.Fatalf("%s: no jobs:", file)
	}
	var out []*schema.Job
	for i := 0; i+1 < len(jobsNode.Content); i += 2 {
		k, v := jobsNode.Content[i], jobsNode.Content[i+1]
		pos := map[string]schema.Pos{"": {File: file, Line: k.Line, Col: k.Column}}
		settings := map[string]any{}
		var perms []schema.Permission
		var life schema.Lifecycle
		mode := ""
		for j := 0; j+1 < len(v.Content); j += 2 {
			fk, fv := v.Content[j], v.Content[j+1]
			switch fk.Value {
			case "permissions":
				perms = []schema.Permission{}
				list := fv
				if fv.Kind == yaml.MappingNode {
					// {mode, grants}
					list = &yaml.Node{}
					for m := 0; m+1 < len(fv.Content); m += 2 {
						switch fv.Content[m].Value {
						case "mode":
							mode = fv.Content[m+1].Value
						case "grants":
							list = fv.Content[m+1]
						}
					}
				}
				for _, e := range list.Content {
					var p schema.Permission
					for m := 0; m+1 < len(e.Content); m += 2 {
						val := e.Content[m+1].Value
						switch e.Content[m].Value {
						case "user_name":
							p.UserName = val
						case "group_name":
							p.GroupName = val
						case "service_principal_name":
							p.ServicePrincipalName = val
						case "permission_level":
							p.PermissionLevel = val
						}
					}
					perms = append(perms, p)
				}
			case "lifecycle":
				for m := 0; m+1 < len(fv.Content); m += 2 {
					switch fv.Content[m].Value {
					case "prevent_destroy":
						life.PreventDestroy = fv.Content[m+1].Value == "true"
					case "ignore_changes":
						for _, e := range fv.Content[m+1].Content {
							life.IgnoreChanges = append(life.IgnoreChanges, e.Value)
						}
					case "moved_from":
						life.MovedFrom = fv.Content[m+1].Value
					case "moved_tasks":
						life.MovedTasks = map[string]string{}
						mt := fv.Content[m+1]
						for x := 0; x+1 < len(mt.Content); x += 2 {
							life.MovedTasks[mt.Content[x].Value] = mt.Content[x+1].Value
						}
					}
				}
			default:
				ptr := "/" + escapePtr(fk.Value)
				pos[ptr] = schema.Pos{File: file, Line: fk.Line, Col: fk.Column}
				settings[fk.Value] = nodeValue(fv, ptr, file, pos)
			}
		}
		j := schema.NewJob(k.Value, file, settings, pos)
		j.Permissions = perms
		if perms != nil {
			j.PermissionsMode = schema.PermissionsAuthoritative
			if mode != "" {
				j.PermissionsMode = mode
			}
		}
		j.Lifecycle = life
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out
}

func escapePtr(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func nodeValue(n *yaml.Node, ptr, file string, pos map[string]schema.Pos) any {
	switch n.Kind {
	case yaml.AliasNode:
		return nodeValue(n.Alias, ptr, file, pos)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := ptr + "/" + escapePtr(k.Value)
			pos[p] = schema.Pos{File: file, Line: k.Line, Col: k.Column}
			m[k.Value] = nodeValue(n.Content[i+1], p, file, pos)
		}
		return m
	case yaml.SequenceNode:
		a := make([]any, len(n.Content))
		for i, e := range n.Content {
			p := ptr + "/" + strconv.Itoa(i)
			pos[p] = schema.Pos{File: file, Line: e.Line, Col: e.Column}
			a[i] = nodeValue(e, p, file, pos)
		}
		return a
	}
	switch n.Tag {
	case "!!int", "!!float":
		return json.Number(n.Value)
	case "!!bool":
		return n.Value == "true"
	case "!!null":
		return nil
	}
	return n.Value
}

// liveJob is a live job as written in test data: jobs/get fields plus the
// job's direct permissions.
type liveJob struct {
	JobID           int64               `json:"job_id"`
	CreatorUserName string              `json:"creator_user_name"`
	RunAsUserName   string              `json:"run_as_user_name"`
	Settings        map[string]any      `json:"settings"`
	Permissions     []schema.Permission `json:"permissions"`
	Partial         bool                `json:"partial"`
}

func decodeLive(t testing.TB, data []byte) []planner.Live {
	t.Helper()
	var jobs []liveJob
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&jobs); err != nil {
		t.Fatalf("live.json: %v", err)
	}
	out := make([]planner.Live, len(jobs))
	for i, j := range jobs {
		out[i] = planner.Live{JobID: j.JobID, CreatorUserName: j.CreatorUserName, RunAsUserName: j.RunAsUserName,
			Settings: j.Settings, Permissions: j.Permissions, Partial: j.Partial}
	}
	return out
}

func decodeLock(t testing.TB, data []byte) *state.File {
	t.Helper()
	var f state.File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("lock.json: %v", err)
	}
	return &f
}

// lockApplied is m as a lockfile records it (state.Job.Applied).
func lockApplied(t testing.TB, m map[string]any) json.RawMessage {
	t.Helper()
	raw, err := state.EncodeApplied(m)
	if err != nil {
		t.Fatalf("encoding applied settings: %v", err)
	}
	return raw
}

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func decodeBody(t testing.TB, b []byte) map[string]any {
	t.Helper()
	return mustJSON(t, string(b))
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// sim is a tiny, test-only model of the Jobs API's write and read
// semantics (jobs-api.md §4 and §7), enough to check that applying a plan
// converges: the real end-to-end check runs against the emulator.
type sim struct {
	t     testing.TB
	jobs  map[int64]*simJob
	next  int64
	user  string
	perms bool // report permissions on read
}

type simJob struct {
	creator  string
	settings map[string]any // as stored: what was sent, after write-time normalisation
	acl      []schema.Permission
}

func newSim(t testing.TB, live []planner.Live) *sim {
	s := &sim{t: t, jobs: map[int64]*simJob{}, next: 900001, user: "deployer@example.com"}
	for _, l := range live {
		s.jobs[l.JobID] = &simJob{creator: l.CreatorUserName, settings: deepCopy(l.Settings).(map[string]any), acl: l.Permissions}
		if l.Permissions != nil {
			s.perms = true
		}
	}
	return s
}

func (s *sim) write(settings map[string]any) {
	forClusters(settings, func(c map[string]any) { delete(c, "apply_policy_default_values") })
}

// apply runs the plan against the simulated workspace and returns the
// lockfile apply would leave.
func (s *sim) apply(p *planner.Plan, lock *state.File) *state.File {
	t := s.t
	out := &state.File{Version: state.Version, Workspace: p.Workspace, Project: p.Project, Lineage: "sim-lineage", Jobs: map[string]state.Job{}}
	if lock != nil {
		out.Lineage, out.Serial = lock.Lineage, lock.Serial
		for k, j := range lock.Jobs {
			out.Jobs[k] = j
		}
	}
	ids := map[string]int64{}
	for k, j := range out.Jobs {
		ids[k] = j.JobID
	}
	for _, a := range p.Actions {
		if a.JobID != 0 {
			ids[a.Key] = a.JobID
		}
	}
	for _, a := range p.Actions {
		body, err := planner.Resolve(a.Request, ids)
		if err != nil {
			t.Fatalf("apply %s: %v", a.Key, err)
		}
		var req map[string]any
		if len(body) > 0 {
			req = decodeBody(t, body)
		}
		id := a.JobID
		switch a.Op {
		case planner.OpCreate:
			id = s.next
			s.next++
			settings := deepCopy(req).(map[string]any)
			delete(settings, "access_control_list")
			if _, ok := settings["queue"]; !ok {
				settings["queue"] = map[string]any{"enabled": true}
			}
			s.write(settings)
			j := &simJob{creator: s.user, settings: settings, acl: []schema.Permission{{UserName: s.user, PermissionLevel: "IS_OWNER"}}}
			if acl, ok := req["access_control_list"].([]any); ok {
				j.acl = s.putACL(id, acl, true)
			}
			s.jobs[id] = j
			ids[a.Key] = id
		case planner.OpReset:
			j := s.get(a)
			ns := deepCopy(req["new_settings"]).(map[string]any)
			if _, ok := ns["run_as"]; !ok && j.settings["run_as"] != nil {
				ns["run_as"] = j.settings["run_as"] // sticky (jobs-api.md §4.2 quirk 1)
			}
			if _, ok := ns["queue"]; !ok {
				ns["queue"] = map[string]any{"enabled": true} // 2.2 default (quirk 2)
			}
			s.write(ns)
			j.settings = ns
		case planner.OpUpdate:
			j := s.get(a)
			if ns, ok := req["new_settings"].(map[string]any); ok {
				for k, v := range deepCopy(ns).(map[string]any) {
					switch k {
					case "tasks", "job_clusters", "parameters", "environments":
						j.settings[k] = upsert(j.settings[k], v, map[string]string{"tasks": "task_key", "job_clusters": "job_cluster_key", "parameters": "name", "environments": "environment_key"}[k])
					default:
						j.settings[k] = v
					}
				}
			}
			if rm, ok := req["fields_to_remove"].([]any); ok {
				for _, f := range rm {
					f := f.(string)
					switch {
					case strings.HasPrefix(f, "tasks/"):
						j.settings["tasks"] = drop(j.settings["tasks"], "task_key", strings.TrimPrefix(f, "tasks/"))
					case strings.HasPrefix(f, "job_clusters/"):
						j.settings["job_clusters"] = drop(j.settings["job_clusters"], "job_cluster_key", strings.TrimPrefix(f, "job_clusters/"))
					case strings.Contains(f, "/"):
						t.Fatalf("update %s: fields_to_remove %q is not supported by the API", a.Key, f)
					default:
						delete(j.settings, f)
					}
				}
			}
			s.write(j.settings)
		case planner.OpDelete:
			s.get(a)
			delete(s.jobs, id)
			delete(out.Jobs, a.Key)
			continue
		}
		if len(a.Permissions) > 0 {
			acl, _ := decodeBody(t, a.Permissions)["access_control_list"].([]any)
			s.jobs[id].acl = s.putACL(id, acl, false)
		}
		applied, err := planner.ResolveSettings(a.Applied, ids)
		if err != nil {
			t.Fatalf("apply %s: %v", a.Key, err)
		}
		out.Jobs[a.Key] = state.Job{JobID: id, Applied: lockApplied(t, applied), Permissions: a.AppliedPermissions, PermissionsMode: a.AppliedPermissionsMode}
	}
	for _, r := range p.Records {
		if r.Forget {
			delete(out.Jobs, r.Key)
			continue
		}
		out.Jobs[r.Key] = state.Job{JobID: r.JobID, Applied: lockApplied(t, r.Applied), Permissions: r.AppliedPermissions, PermissionsMode: r.AppliedPermissionsMode}
	}
	// The lockfile is stored as JSON: round-trip it so the next plan sees
	// what a reader sees.
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	out.Serial++
	f := decodeLock(t, b)
	f.Serial = out.Serial
	return f
}

func (s *sim) get(a planner.Action) *simJob {
	j := s.jobs[a.JobID]
	if j == nil {
		s.t.Fatalf("%s %s: job %d does not exist", a.Op, a.Key, a.JobID)
	}
	return j
}

// putACL applies a permissions PUT (or a create's access_control_list) the
// way the API does: last entry per principal wins, exactly one IS_OWNER.
func (s *sim) putACL(id int64, acl []any, create bool) []schema.Permission {
	byP := map[string]schema.Permission{}
	var order []string
	for _, e := range acl {
		m := e.(map[string]any)
		p := schema.Permission{PermissionLevel: m["permission_level"].(string)}
		p.UserName, _ = m["user_name"].(string)
		p.GroupName, _ = m["group_name"].(string)
		p.ServicePrincipalName, _ = m["service_principal_name"].(string)
		k := p.UserName + "|" + p.GroupName + "|" + p.ServicePrincipalName
		if _, ok := byP[k]; !ok {
			order = append(order, k)
		}
		byP[k] = p
	}
	if create {
		k := s.user + "||"
		if _, ok := byP[k]; !ok {
			order = append(order, k)
		}
		hasOwner := false
		for _, p := range byP {
			hasOwner = hasOwner || p.PermissionLevel == "IS_OWNER"
		}
		if !hasOwner {
			byP[k] = schema.Permission{UserName: s.user, PermissionLevel: "IS_OWNER"}
		}
	}
	var out []schema.Permission
	owners := 0
	for _, k := range order {
		out = append(out, byP[k])
		if byP[k].PermissionLevel == "IS_OWNER" {
			owners++
		}
	}
	if owners != 1 {
		s.t.Fatalf("permissions PUT on job %d: %d owners, the API requires exactly one (%v)", id, owners, acl)
	}
	return out
}

func upsert(cur, incoming any, key string) any {
	arr, _ := cur.([]any)
	out := append([]any(nil), arr...)
	for _, e := range incoming.([]any) {
		k := e.(map[string]any)[key]
		replaced := false
		for i, c := range out {
			if c.(map[string]any)[key] == k {
				out[i] = e
				replaced = true
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}

func drop(cur any, key, val string) any {
	arr, _ := cur.([]any)
	var out []any
	for _, e := range arr {
		if e.(map[string]any)[key] != val {
			out = append(out, e)
		}
	}
	return out
}

func forClusters(settings map[string]any, fn func(map[string]any)) {
	var task func(t map[string]any)
	task = func(t map[string]any) {
		if c, ok := t["new_cluster"].(map[string]any); ok {
			fn(c)
		}
		if fe, ok := t["for_each_task"].(map[string]any); ok {
			if inner, ok := fe["task"].(map[string]any); ok {
				task(inner)
			}
		}
	}
	for _, e := range asList(settings["tasks"]) {
		task(e)
	}
	for _, e := range asList(settings["job_clusters"]) {
		if c, ok := e["new_cluster"].(map[string]any); ok {
			fn(c)
		}
	}
}

func asList(v any) []map[string]any {
	arr, _ := v.([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// live is what jobs/get returns for every job: the stored settings plus the
// server's read-time defaults (jobs-api.md §7), with depends_on, tasks and
// webhook lists in an order other than the one sent.
func (s *sim) live() []planner.Live {
	ids := make([]int64, 0, len(s.jobs))
	for id := range s.jobs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	out := make([]planner.Live, 0, len(ids))
	for _, id := range ids {
		j := s.jobs[id]
		st := deepCopy(j.settings).(map[string]any)
		serverDefaults(st)
		l := planner.Live{JobID: id, CreatorUserName: j.creator, Settings: st}
		if s.perms {
			l.Permissions = j.acl
		}
		out = append(out, l)
	}
	return out
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func serverDefaults(st map[string]any) {
	setDefault(st, "email_notifications", map[string]any{})
	setDefault(st, "webhook_notifications", map[string]any{})
	setDefault(st, "timeout_seconds", json.Number("0"))
	setDefault(st, "max_concurrent_runs", json.Number("1"))
	setDefault(st, "name", "Untitled")
	st["format"] = "MULTI_TASK"
	src := "WORKSPACE"
	if st["git_source"] != nil {
		src = "GIT"
	}
	var task func(t map[string]any)
	task = func(t map[string]any) {
		setDefault(t, "run_if", "ALL_SUCCESS")
		setDefault(t, "timeout_seconds", json.Number("0"))
		setDefault(t, "email_notifications", map[string]any{"no_alert_for_skipped_runs": false})
		if nb, ok := t["notebook_task"].(map[string]any); ok {
			setDefault(nb, "source", src)
		}
		if d, ok := t["depends_on"].([]any); ok {
			reverse(d)
		}
		if fe, ok := t["for_each_task"].(map[string]any); ok {
			if inner, ok := fe["task"].(map[string]any); ok {
				task(inner)
			}
		}
	}
	tasks, _ := st["tasks"].([]any)
	for _, e := range tasks {
		task(e.(map[string]any))
	}
	reverse(tasks)
	forClusters(st, func(c map[string]any) {
		setDefault(c, "aws_attributes", map[string]any{"availability": "SPOT_WITH_FALLBACK", "zone_id": "us-east-1c"})
		if aws, ok := c["aws_attributes"].(map[string]any); ok {
			setDefault(aws, "zone_id", "us-east-1c")
		}
		setDefault(c, "data_security_mode", "SINGLE_USER")
		setDefault(c, "enable_elastic_disk", false)
	})
	if wh, ok := st["webhook_notifications"].(map[string]any); ok {
		for _, v := range wh {
			if l, ok := v.([]any); ok {
				reverse(l)
			}
		}
	}
}

func reverse(a []any) {
	for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
		a[i], a[j] = a[j], a[i]
	}
}

func fmtActions(p *planner.Plan) string {
	var b strings.Builder
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "%s %s: %s\n", a.Op, a.Key, a.Reason)
		for _, c := range a.Changes {
			fmt.Fprintf(&b, "    %s %s %v -> %v (%s)\n", c.Kind, c.Path, c.Before, c.After, c.Origin)
		}
	}
	for _, r := range p.Records {
		fmt.Fprintf(&b, "record %s forget=%v: %s\n", r.Key, r.Forget, r.Reason)
	}
	return b.String()
}
