package planner

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/jobsync/jobsync/schema"
)

// principal is who a grant is for: kind is "user_name", "group_name" or
// "service_principal_name".
type principal struct{ kind, name string }

func principalOf(p schema.Permission) (principal, bool) {
	switch {
	case p.UserName != "":
		return principal{"user_name", p.UserName}, true
	case p.ServicePrincipalName != "":
		return principal{"service_principal_name", p.ServicePrincipalName}, true
	case p.GroupName != "":
		return principal{"group_name", p.GroupName}, true
	}
	return principal{}, false
}

// acl maps each principal to its level. When a principal is listed twice
// the last entry wins, as in the permissions API (jobs-api.md §3.4).
type acl map[principal]string

func aclOf(ps []schema.Permission) acl {
	a := acl{}
	for _, p := range ps {
		if pr, ok := principalOf(p); ok {
			a[pr] = p.PermissionLevel
		}
	}
	return a
}

// aclFromRecord reads the normalised form the lockfile stores.
func aclFromRecord(rec []any) acl {
	a := acl{}
	for _, e := range rec {
		m, _ := e.(map[string]any)
		lvl, _ := m["permission_level"].(string)
		for _, k := range []string{"user_name", "group_name", "service_principal_name"} {
			if n, ok := m[k].(string); ok && n != "" {
				a[principal{k, n}] = lvl
			}
		}
	}
	return a
}

func (a acl) principals() []principal {
	out := make([]principal, 0, len(a))
	for p := range a {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].kind != out[j].kind {
			return out[i].kind < out[j].kind
		}
		return out[i].name < out[j].name
	})
	return out
}

// entries is the ACL as a sorted list of access-control entries, the form
// of request bodies and of the lockfile.
func (a acl) entries() []any {
	out := make([]any, 0, len(a))
	for _, p := range a.principals() {
		out = append(out, map[string]any{p.kind: p.name, "permission_level": a[p]})
	}
	return out
}

func (a acl) owner() (principal, bool) {
	for _, p := range a.principals() {
		if a[p] == "IS_OWNER" {
			return p, true
		}
	}
	return principal{}, false
}

func equalPerms(rec []any, applied []any) bool {
	if rec == nil && applied == nil {
		return true
	}
	return deepEqual(canonicalList(rec), canonicalList(applied))
}

func canonicalList(l []any) any {
	if l == nil {
		return []any{}
	}
	return aclFromRecord(l).entries()
}

// permMode is what the lockfile records of the job's permission mode:
// "additive", or empty for authoritative (and for a job whose permissions
// jobsync does not manage).
func (jp *jobPlanner) permMode() string {
	if jp.job != nil && jp.job.Permissions != nil && jp.job.PermissionsMode == schema.PermissionsAdditive {
		return schema.PermissionsAdditive
	}
	return ""
}

// permPlan is what a job's permissions need.
type permPlan struct {
	changes []change
	body    json.RawMessage // the PUT body, when changes
	applied []any           // normalised desired ACL for the lockfile
	create  []any           // access_control_list of a create request
}

// permissions compares the declared grants with the job's direct grants.
// Inherited grants are the caller's to drop. When the configuration names
// no IS_OWNER, the owner is not jobsync's business: its grant is left out
// of the comparison and kept in the PUT, which must hold exactly one
// IS_OWNER (jobs-api.md §3.4, §12.13).
//
// In authoritative mode (the default) the job's direct grants become
// exactly the declared ones: a grant made outside jobsync is a change
// (drift) and the PUT leaves it out. In additive mode only the declared
// grants are jobsync's: each must be there at its level, and any other
// grant is neither shown nor removed — the PUT (which replaces the whole
// list) carries them as they are. The one exception is an owner the
// configuration replaces: a job has exactly one IS_OWNER.
func (jp *jobPlanner) permissions() (*permPlan, error) {
	pp := &permPlan{}
	if jp.job.Permissions == nil {
		return pp, nil
	}
	want := aclOf(jp.job.Permissions)
	owners := 0
	for p, lvl := range want {
		if lvl != "IS_OWNER" {
			continue
		}
		owners++
		if p.kind == "group_name" {
			return nil, fmt.Errorf("job %q (%s): permissions: group %q cannot own a job; give IS_OWNER to a user or service principal", jp.key, jp.job.Pos, p.name)
		}
	}
	if owners > 1 {
		return nil, fmt.Errorf("job %q (%s): permissions: %d principals have IS_OWNER; a job has exactly one owner", jp.key, jp.job.Pos, owners)
	}
	pp.applied = want.entries()
	if jp.live == nil {
		pp.create = pp.applied
		for _, pr := range want.principals() {
			pp.changes = append(pp.changes, change{segs: []seg{{name: "permissions"}, {key: pr.kind, val: pr.name}},
				kind: KindAdd, after: want[pr], origin: OriginConfig})
		}
		return pp, nil
	}

	additive := jp.job.PermissionsMode == schema.PermissionsAdditive
	var have acl
	switch {
	case jp.live.Permissions != nil:
		have = aclOf(jp.live.Permissions)
	case jp.lock != nil && jp.lock.JobID == jp.live.JobID && jp.lock.Permissions != nil:
		// Not read this time: the last applied grants are the best knowledge.
		have = aclFromRecord(jp.lock.Permissions)
	default:
		have = acl{}
	}
	var recorded acl
	if jp.lock != nil && jp.lock.JobID == jp.live.JobID && jp.lock.Permissions != nil {
		recorded = aclFromRecord(jp.lock.Permissions)
	}

	wantOwner, named := want.owner()
	owner := wantOwner
	if !named {
		var ok bool
		if owner, ok = have.owner(); !ok {
			if k, n := ownerOf(jp.live); k != "" {
				owner = principal{k, n}
			} else {
				return nil, fmt.Errorf("job %q [job %d]: cannot keep the job's owner in its permissions: the owner is unknown (permissions not read, no creator); add an IS_OWNER entry to its permissions", jp.key, jp.live.JobID)
			}
		}
		// The owner's own grant is not compared: it is the owner whatever
		// the configuration lists for it.
		want = without(want, owner)
		have = without(have, owner)
		recorded = without(recorded, owner)
	}

	// An IS_OWNER the configuration names anew takes ownership from the
	// current owner: that is a configuration change, not drift.
	recOwner, _ := recorded.owner()
	transfer := named && recOwner != wantOwner

	union := acl{}
	for p := range have {
		union[p] = ""
	}
	for p := range want {
		union[p] = ""
	}
	for _, pr := range union.principals() {
		before, bok := have[pr]
		after, wok := want[pr]
		if bok && wok && before == after {
			continue
		}
		if additive && !wok && !(named && before == "IS_OWNER") {
			continue // not jobsync's grant
		}
		rec, rok := recorded[pr]
		c := change{segs: []seg{{name: "permissions"}, {key: pr.kind, val: pr.name}}, origin: OriginConfig}
		if recorded != nil && wok == rok && after == rec && !(transfer && bok && before == "IS_OWNER") {
			c.origin = OriginDrift
		}
		switch {
		case !bok:
			c.kind, c.after = KindAdd, after
		case !wok:
			c.kind, c.before = KindRemove, before
		default:
			c.kind, c.before, c.after = KindModify, before, after
		}
		pp.changes = append(pp.changes, c)
	}
	if len(pp.changes) == 0 {
		return pp, nil
	}
	list := want.entries()
	if additive {
		if jp.live.Permissions == nil {
			return nil, fmt.Errorf("job %q [job %d]: its permissions were not read, and in additive mode the grants made outside jobsync must be kept in the request; plan again", jp.key, jp.live.JobID)
		}
		merged := acl{}
		for p, lvl := range have {
			if named && lvl == "IS_OWNER" && p != wantOwner {
				continue // the owner the configuration replaces
			}
			merged[p] = lvl
		}
		for p, lvl := range want {
			merged[p] = lvl
		}
		list = merged.entries()
	}
	if !named {
		list = append(list, map[string]any{owner.kind: owner.name, "permission_level": "IS_OWNER"})
	}
	body, err := marshal(map[string]any{"access_control_list": list})
	if err != nil {
		return nil, fmt.Errorf("job %q: encoding the permissions request: %v", jp.key, err)
	}
	pp.body = body
	return pp, nil
}

func without(a acl, p principal) acl {
	if a == nil {
		return nil
	}
	out := make(acl, len(a))
	for k, v := range a {
		if k != p {
			out[k] = v
		}
	}
	return out
}

func (pp *permPlan) present(job *schema.Job) []Change {
	if pp == nil {
		return nil
	}
	out := make([]Change, len(pp.changes))
	src := ""
	if job != nil {
		src = posString(job.PosOf("/permissions"))
	}
	for i, c := range pp.changes {
		out[i] = c.present(src)
	}
	return out
}
