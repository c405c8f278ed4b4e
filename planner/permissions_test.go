package planner_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// TestPermissionModes: for each mode and each way the live grants can
// differ, the changes shown (with their origin) and the exact list the
// PUT sends. alice@acme.com owns every job; the lockfile records what was
// declared at the last apply (analysts CAN_VIEW).
func TestPermissionModes(t *testing.T) {
	type grants = map[string]string // "kind:name" -> level
	cases := []struct {
		name    string
		mode    string // "" is authoritative
		want    grants // declared
		live    grants // direct grants in the workspace (with the owner)
		changes []string
		put     []string // nil: no PUT
	}{
		{
			name: "authoritative/in sync", want: grants{"group:analysts": "CAN_VIEW"},
			live: grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW"},
		},
		{
			name: "authoritative/UI grant is drift and removed", want: grants{"group:analysts": "CAN_VIEW"},
			live:    grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW", "user:dave@acme.com": "CAN_MANAGE"},
			changes: []string{`remove permissions[user_name="dave@acme.com"] CAN_MANAGE drift`},
			put:     []string{"group:analysts=CAN_VIEW", "user:alice@acme.com=IS_OWNER"},
		},
		{
			name: "authoritative/level changed in UI", want: grants{"group:analysts": "CAN_VIEW"},
			live:    grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_MANAGE"},
			changes: []string{`modify permissions[group_name="analysts"] CAN_MANAGE->CAN_VIEW drift`},
			put:     []string{"group:analysts=CAN_VIEW", "user:alice@acme.com=IS_OWNER"},
		},
		{
			name: "authoritative/new declared grant", want: grants{"group:analysts": "CAN_VIEW", "group:ops": "CAN_MANAGE"},
			live:    grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW"},
			changes: []string{`add permissions[group_name="ops"] CAN_MANAGE config`},
			put:     []string{"group:analysts=CAN_VIEW", "group:ops=CAN_MANAGE", "user:alice@acme.com=IS_OWNER"},
		},
		{
			name: "authoritative/grant removed from the YAML", want: grants{},
			live:    grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW"},
			changes: []string{`remove permissions[group_name="analysts"] CAN_VIEW config`},
			put:     []string{"user:alice@acme.com=IS_OWNER"},
		},
		{
			name: "additive/in sync", mode: schema.PermissionsAdditive, want: grants{"group:analysts": "CAN_VIEW"},
			live: grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW"},
		},
		{
			name: "additive/UI grant is left alone", mode: schema.PermissionsAdditive, want: grants{"group:analysts": "CAN_VIEW"},
			live: grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW", "user:dave@acme.com": "CAN_MANAGE"},
		},
		{
			name: "additive/level changed in UI is drift, UI grant kept", mode: schema.PermissionsAdditive, want: grants{"group:analysts": "CAN_VIEW"},
			live:    grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_MANAGE", "service_principal:app-1": "CAN_MANAGE_RUN"},
			changes: []string{`modify permissions[group_name="analysts"] CAN_MANAGE->CAN_VIEW drift`},
			put:     []string{"group:analysts=CAN_VIEW", "service_principal:app-1=CAN_MANAGE_RUN", "user:alice@acme.com=IS_OWNER"},
		},
		{
			name: "additive/declared grant missing", mode: schema.PermissionsAdditive, want: grants{"group:analysts": "CAN_VIEW"},
			live:    grants{"user:alice@acme.com": "IS_OWNER", "user:dave@acme.com": "CAN_MANAGE"},
			changes: []string{`add permissions[group_name="analysts"] CAN_VIEW drift`},
			put:     []string{"group:analysts=CAN_VIEW", "user:alice@acme.com=IS_OWNER", "user:dave@acme.com=CAN_MANAGE"},
		},
		{
			name: "additive/grant removed from the YAML stays", mode: schema.PermissionsAdditive, want: grants{},
			live: grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW"},
		},
		{
			name: "additive/new owner replaces the old one", mode: schema.PermissionsAdditive,
			want: grants{"group:analysts": "CAN_VIEW", "service_principal:sp-deploy": "IS_OWNER"},
			live: grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW", "user:dave@acme.com": "CAN_MANAGE"},
			changes: []string{
				`add permissions[service_principal_name="sp-deploy"] IS_OWNER config`,
				`remove permissions[user_name="alice@acme.com"] IS_OWNER config`,
			},
			put: []string{"group:analysts=CAN_VIEW", "service_principal:sp-deploy=IS_OWNER", "user:dave@acme.com=CAN_MANAGE"},
		},
		{
			name: "authoritative/owner listed without IS_OWNER is not compared", want: grants{"group:analysts": "CAN_VIEW", "user:alice@acme.com": "CAN_MANAGE"},
			live: grants{"user:alice@acme.com": "IS_OWNER", "group:analysts": "CAN_VIEW"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]any{"name": "j", "tasks": []any{map[string]any{"task_key": "t", "notebook_task": map[string]any{"notebook_path": "/p"}}}}
			job := schema.NewJob("j", "jobs.yaml", settings, nil)
			job.Permissions = toPerms(tc.want)
			job.PermissionsMode = tc.mode
			live := liveOf(t, 7, "j", `{"name": "j", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/p"}}]}`)
			live.Permissions = toPerms(tc.live)
			applied := planner.Normalize(mustJSON(t, `{"name": "j", "queue": {"enabled": true}, "tags": {"jobsync": "acme/j"}, "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/p"}}]}`))
			lock := &state.File{Version: 1, Project: "acme", Lineage: "0123456789abcdef0123456789abcdef", Serial: 1, Jobs: map[string]state.Job{
				"j": {JobID: 7, Applied: lockApplied(t, applied), Permissions: []any{map[string]any{"group_name": "analysts", "permission_level": "CAN_VIEW"}}},
			}}
			p, err := planner.Build(planner.Input{Desired: []*schema.Job{job}, Live: []planner.Live{live}, Lock: lock, Project: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.put == nil {
				if !p.Empty() {
					t.Fatalf("want no action, got:\n%s", fmtActions(p))
				}
				return
			}
			a := one(t, p)
			if a.Op != planner.OpPermissions {
				t.Errorf("op %s, want permissions", a.Op)
			}
			var got []string
			for _, c := range a.Changes {
				lv := func(v any) string { s, _ := v.(string); return s }
				s := c.Kind + " " + c.Path + " "
				switch c.Kind {
				case "add":
					s += lv(c.After)
				case "remove":
					s += lv(c.Before)
				default:
					s += lv(c.Before) + "->" + lv(c.After)
				}
				got = append(got, s+" "+c.Origin)
			}
			if strings.Join(got, "\n") != strings.Join(tc.changes, "\n") {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.changes, "\n"))
			}
			var body struct {
				ACL []map[string]string `json:"access_control_list"`
			}
			if err := json.Unmarshal(a.Permissions, &body); err != nil {
				t.Fatalf("PUT body %s: %v", a.Permissions, err)
			}
			var put []string
			owners := 0
			for _, e := range body.ACL {
				for k, v := range e {
					if k != "permission_level" {
						put = append(put, strings.TrimSuffix(k, "_name")+":"+v+"="+e["permission_level"])
					}
				}
				if e["permission_level"] == "IS_OWNER" {
					owners++
				}
			}
			sort.Strings(put)
			if strings.Join(put, " ") != strings.Join(tc.put, " ") {
				t.Errorf("PUT %s\nwant %s", strings.Join(put, " "), strings.Join(tc.put, " "))
			}
			if owners != 1 {
				t.Errorf("PUT has %d owners, want exactly 1", owners)
			}
		})
	}
}

// TestAdditiveNeedsLiveGrants: in additive mode a PUT must carry the grants
// made outside jobsync, so it is never built from the lockfile's record.
func TestAdditiveNeedsLiveGrants(t *testing.T) {
	settings := map[string]any{"name": "j", "tasks": []any{map[string]any{"task_key": "t", "notebook_task": map[string]any{"notebook_path": "/p"}}}}
	job := schema.NewJob("j", "jobs.yaml", settings, nil)
	job.Permissions = toPerms(map[string]string{"group:ops": "CAN_MANAGE"})
	job.PermissionsMode = schema.PermissionsAdditive
	live := liveOf(t, 7, "j", `{"name": "j", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/p"}}]}`)
	lock := &state.File{Version: 1, Project: "acme", Lineage: "0123456789abcdef0123456789abcdef", Serial: 1, Jobs: map[string]state.Job{
		"j": {JobID: 7, Applied: lockApplied(t, planner.Normalize(live.Settings)), Permissions: []any{}},
	}}
	_, err := planner.Build(planner.Input{Desired: []*schema.Job{job}, Live: []planner.Live{live}, Lock: lock, Project: "acme"})
	if err == nil || !strings.Contains(err.Error(), "additive") {
		t.Fatalf("want an error about additive mode, got %v", err)
	}
}

func toPerms(g map[string]string) []schema.Permission {
	out := []schema.Permission{}
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kind, name, _ := strings.Cut(k, ":")
		p := schema.Permission{PermissionLevel: g[k]}
		switch kind {
		case "user":
			p.UserName = name
		case "group":
			p.GroupName = name
		case "service_principal":
			p.ServicePrincipalName = name
		}
		out = append(out, p)
	}
	return out
}
