package planner

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// CreatorGrantsError refuses a plan that creates a job whose grants give
// the identity applying it a level below IS_OWNER while naming no other
// owner. The service makes a job's creator its IS_OWNER and holds one
// level per principal, so such a create is refused ("The job must have
// exactly one owner.", jobs-api.md §3.4) at apply time, after the actions
// before it were written. Leaving the grant out, as the bundle CLI does
// for a bundle (schema's dropCurrentUser), would not converge in a
// jobsync.yaml project: its permissions are authoritative, so every later
// plan would add the grant again. me returns the identity's user name (or
// a service principal's application id); it is called only when a create
// grants a user or service principal something, so other plans cost no
// request, and ok false (the identity cannot be read) skips the check.
func CreatorGrantsError(p *Plan, me func() (name string, ok bool)) error {
	type grant struct{ key, source, name, level string }
	var candidates []grant
	for _, a := range p.Actions {
		if a.Op != OpCreate {
			continue
		}
		var entries []map[string]any
		for _, body := range []json.RawMessage{a.Request, a.Permissions} {
			var b struct {
				ACL []map[string]any `json:"access_control_list"`
			}
			if len(body) > 0 && json.Unmarshal(body, &b) == nil {
				entries = append(entries, b.ACL...)
			}
		}
		owned := false
		var named []grant
		for _, e := range entries {
			level, _ := e["permission_level"].(string)
			if level == "IS_OWNER" {
				owned = true
			}
			for _, f := range []string{"user_name", "service_principal_name"} {
				if s, _ := e[f].(string); s != "" && level != "IS_OWNER" {
					named = append(named, grant{a.Key, a.Source, s, level})
				}
			}
		}
		if !owned {
			candidates = append(candidates, named...)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	name, ok := me()
	if !ok || name == "" {
		return nil
	}
	var lines []string
	for _, g := range candidates {
		if g.name != name {
			continue
		}
		where := g.key
		if g.source != "" {
			where += " (" + g.source + ")"
		}
		lines = append(lines, fmt.Sprintf("  job %s: permissions give %s %s", where, g.name, g.level))
	}
	if len(lines) == 0 {
		return nil
	}
	sort.Strings(lines)
	return fmt.Errorf("%s applies this plan, so it becomes the owner (IS_OWNER) of each job it creates, and a job has one owner and one level per principal; the workspace would refuse these creates:\n%s\n"+
		"declare permission_level: IS_OWNER for %s (or another principal as IS_OWNER), or leave its grant out; nothing was written",
		name, strings.Join(lines, "\n"), name)
}
