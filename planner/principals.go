package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// PrincipalUse is one principal a planned write names: in an access control
// entry (a create's access_control_list or a permissions PUT) or as run_as.
type PrincipalUse struct {
	Key    string // the job key
	Source string // file:line:col of the job in the YAML
	Kind   string // user_name, group_name or service_principal_name
	Name   string
	In     string // "permissions" or "run_as"
}

var principalFields = []string{"user_name", "group_name", "service_principal_name"}

// Principals lists the principals the plan's writes name, in action order,
// each (key, kind, name, in) once. The workspace refuses an access control
// entry naming a principal it does not know ("Principal: UserName(x) does
// not exist", FIDELITY.md gap 9), and does so after the job itself was
// written; a caller that looks them up before applying keeps a job and its
// permissions from ending half-applied. A plan without writes names none,
// so a no-change plan costs no lookup.
func Principals(p *Plan) []PrincipalUse {
	var out []PrincipalUse
	seen := map[PrincipalUse]bool{}
	add := func(u PrincipalUse) {
		if u.Name != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for _, a := range p.Actions {
		var req struct {
			ACL         []map[string]any `json:"access_control_list"`
			RunAs       map[string]any   `json:"run_as"`
			NewSettings struct {
				RunAs map[string]any `json:"run_as"`
			} `json:"new_settings"`
		}
		if len(a.Request) > 0 && a.Op != OpDelete {
			dec := json.NewDecoder(bytes.NewReader(a.Request))
			if dec.Decode(&req) == nil {
				for _, runAs := range []map[string]any{req.RunAs, req.NewSettings.RunAs} {
					for _, f := range principalFields {
						if s, _ := runAs[f].(string); s != "" {
							add(PrincipalUse{Key: a.Key, Source: a.Source, Kind: f, Name: s, In: "run_as"})
						}
					}
				}
			}
		}
		acl := req.ACL
		if len(a.Permissions) > 0 {
			var body struct {
				ACL []map[string]any `json:"access_control_list"`
			}
			if json.Unmarshal(a.Permissions, &body) == nil {
				acl = append(acl, body.ACL...)
			}
		}
		for _, e := range acl {
			for _, f := range principalFields {
				if s, _ := e[f].(string); s != "" {
					add(PrincipalUse{Key: a.Key, Source: a.Source, Kind: f, Name: s, In: "permissions"})
				}
			}
		}
	}
	return out
}

// UnknownPrincipalsError is the refusal of a plan whose writes name
// principals the workspace does not know: one line per use, said before
// anything is written. known reports, per kind and name, what the lookups
// found.
func UnknownPrincipalsError(uses []PrincipalUse, known func(kind, name string) bool) error {
	var lines []string
	e := &UnknownPrincipals{}
	for _, u := range uses {
		if known(u.Kind, u.Name) {
			continue
		}
		e.Uses = append(e.Uses, u)
		where := u.Key
		if u.Source != "" {
			where += " (" + u.Source + ")"
		}
		lines = append(lines, fmt.Sprintf("  job %s: %s %s %q", where, u.In, u.Kind, u.Name))
	}
	if len(lines) == 0 {
		return nil
	}
	sort.Strings(lines)
	e.msg = fmt.Sprintf("the workspace does not know %d principal(s) the plan names, and would refuse them after writing the job:\n%s\nadd them to the workspace (or correct the names) and plan again; nothing was written",
		len(lines), strings.Join(lines, "\n"))
	return e
}

// UnknownPrincipals is that refusal; Uses are the uses of the principals
// the workspace does not know, so that a caller can say how to add them
// (to the built-in emulator's directory, say).
type UnknownPrincipals struct {
	Uses []PrincipalUse
	msg  string
}

func (e *UnknownPrincipals) Error() string { return e.msg }
