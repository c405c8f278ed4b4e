package emulator

import (
	"net/http"
	"strconv"
)

// ace is one direct access control entry of a job.
type ace struct {
	Kind  string `json:"kind"` // user_name, group_name or service_principal_name
	Name  string `json:"name"`
	Level string `json:"level"`
}

var principalKinds = []string{"user_name", "group_name", "service_principal_name"}

const levelOwner = "IS_OWNER"

// parseACL reads JobAccessControlRequest entries: exactly one principal and a
// permission level each (§3.4). A principal named twice keeps its first
// position and its last level: "the last entry wins" ([cloud]
// acceptance/bundle/resources/permissions/factcheck).
func parseACL(base []ace, list []map[string]any) ([]ace, *apiError) {
	out := append([]ace(nil), base...)
	for _, e := range list {
		var a ace
		for _, k := range principalKinds {
			if v := getString(e, k); v != "" {
				if a.Kind != "" {
					return nil, invalidParam("An access control entry must name exactly one of user_name, group_name, service_principal_name.")
				}
				a.Kind, a.Name = k, v
			}
		}
		if a.Kind == "" {
			return nil, invalidParam("An access control entry must name exactly one of user_name, group_name, service_principal_name.")
		}
		a.Level = getString(e, "permission_level")
		if a.Level == "" {
			return nil, invalidParam("Missing permission_level for %s %s.", a.Kind, a.Name)
		}
		out = upsertACE(out, a)
	}
	return out, nil
}

func upsertACE(acl []ace, a ace) []ace {
	for i, x := range acl {
		if x.Kind == a.Kind && x.Name == a.Name {
			acl[i].Level = a.Level
			return acl
		}
	}
	return append(acl, a)
}

// checkOwners enforces the owner rules of §3.4: no group owner ("A job cannot
// have a group as an owner", TF docs, terraform-provider-databricks PR #386)
// and exactly one IS_OWNER ([cloud] factcheck: 400 INVALID_PARAMETER_VALUE
// "The job must have exactly one owner.").
func checkOwners(acl []ace) *apiError {
	owners := 0
	for _, a := range acl {
		if a.Level != levelOwner {
			continue
		}
		if a.Kind == "group_name" {
			return invalidParam("A job cannot have a group as an owner.")
		}
		owners++
	}
	if owners != 1 {
		return invalidParam("The job must have exactly one owner.")
	}
	return nil
}

func ownerOf(acl []ace) string {
	for _, a := range acl {
		if a.Level == levelOwner {
			return a.Name
		}
	}
	return ""
}

// initialACL is the ACL of a new job: the creator (a user or a service
// principal) is IS_OWNER and the access_control_list of jobs/create is
// applied on top ([SDK] CreateJob). An owner named in that list replaces the
// creator as owner (assumed).
func initialACL(creatorP *principal, list []map[string]any) ([]ace, *apiError) {
	creator := ace{Kind: creatorP.kind, Name: creatorP.name, Level: levelOwner}
	acl, err := parseACL([]ace{creator}, list)
	if err != nil {
		return nil, err
	}
	if acl[0] == creator {
		for _, a := range acl[1:] {
			if a.Level == levelOwner {
				acl = acl[1:]
				break
			}
		}
	}
	if err := checkOwners(acl); err != nil {
		return nil, err
	}
	return acl, nil
}

// jobForPermissions parses the {job_id} of a permissions path and checks the
// job exists. The answer for a missing job is undocumented; 404
// RESOURCE_DOES_NOT_EXIST assumed (the generic Permissions API's convention).
func (s *Server) jobForPermissions(rq *request) (int64, *apiError) {
	st := rq.st
	id, err := strconv.ParseInt(rq.pathID, 10, 64)
	if err != nil {
		return 0, invalidParam("Invalid job id %q.", rq.pathID)
	}
	if st.jobs[id] == nil {
		return 0, &apiError{status: http.StatusNotFound, code: codeNotFound, msg: "Job " + rq.pathID + " does not exist."}
	}
	return id, nil
}

// getPermissions: GET /api/2.0/permissions/jobs/{job_id} (§3.4).
func (s *Server) getPermissions(rq *request) (any, *apiError) {
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	id, err := s.jobForPermissions(rq)
	if err != nil {
		return nil, err
	}
	return permissionsBody(id, st.perms[id]), nil
}

// setPermissions: PUT replaces all direct entries ("Deletes all direct
// permissions if none are specified", [SDK] SetPermissions); the answer
// equals a following GET ([cloud] factcheck/check_permissions.py).
func (s *Server) setPermissions(rq *request) (any, *apiError) {
	return s.writePermissions(rq, true)
}

// updatePermissions: PATCH adds or changes the listed principals and keeps
// the others ([SDK] "Updates the permissions"; upsert assumed, §3.4).
func (s *Server) updatePermissions(rq *request) (any, *apiError) {
	return s.writePermissions(rq, false)
}

func (s *Server) writePermissions(rq *request, replace bool) (any, *apiError) {
	st := rq.st
	st.mu.Lock()
	defer st.mu.Unlock()
	id, err := s.jobForPermissions(rq)
	if err != nil {
		return nil, err
	}
	var base []ace
	if !replace {
		base = st.perms[id]
	}
	acl, err := parseACL(base, objects(rq.params, "access_control_list"))
	if err != nil {
		return nil, err
	}
	if err := checkOwners(acl); err != nil {
		return nil, err
	}
	st.perms[id] = acl
	return permissionsBody(id, acl), nil
}

type permission struct {
	PermissionLevel     string   `json:"permission_level"`
	Inherited           bool     `json:"inherited"`
	InheritedFromObject []string `json:"inherited_from_object,omitempty"`
}

type aceResponse struct {
	UserName             string       `json:"user_name,omitempty"`
	GroupName            string       `json:"group_name,omitempty"`
	ServicePrincipalName string       `json:"service_principal_name,omitempty"`
	AllPermissions       []permission `json:"all_permissions"`
}

type permissionsResponse struct {
	ObjectID          string        `json:"object_id"`
	ObjectType        string        `json:"object_type"`
	AccessControlList []aceResponse `json:"access_control_list"`
}

// permissionsBody renders JobPermissions: the direct entries, then the
// workspace admins' CAN_MANAGE inherited from "/jobs/" ([cloud]
// acceptance/bundle/resources/permissions/jobs/delete_one). display_name is
// left out, as cloud does for freshly created principals (same test).
func permissionsBody(id int64, acl []ace) permissionsResponse {
	out := permissionsResponse{ObjectID: "/jobs/" + strconv.FormatInt(id, 10), ObjectType: "job"}
	admins := -1
	for _, a := range acl {
		r := aceResponse{AllPermissions: []permission{{PermissionLevel: a.Level}}}
		switch a.Kind {
		case "user_name":
			r.UserName = a.Name
		case "group_name":
			r.GroupName = a.Name
			if a.Name == "admins" {
				admins = len(out.AccessControlList)
			}
		default:
			r.ServicePrincipalName = a.Name
		}
		out.AccessControlList = append(out.AccessControlList, r)
	}
	inherited := permission{PermissionLevel: "CAN_MANAGE", Inherited: true, InheritedFromObject: []string{"/jobs/"}}
	if admins >= 0 {
		e := &out.AccessControlList[admins]
		e.AllPermissions = append(e.AllPermissions, inherited)
	} else {
		out.AccessControlList = append(out.AccessControlList, aceResponse{GroupName: "admins", AllPermissions: []permission{inherited}})
	}
	return out
}

// permissionLevels: GET .../permissionLevels. The descriptions are ours:
// public sources do not quote the service's (§3.4).
func (s *Server) permissionLevels(rq *request) (any, *apiError) {
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	if _, err := s.jobForPermissions(rq); err != nil {
		return nil, err
	}
	type level struct {
		PermissionLevel string `json:"permission_level"`
		Description     string `json:"description"`
	}
	return map[string][]level{"permission_levels": {
		{"CAN_VIEW", "Can view the job and its runs"},
		{"CAN_MANAGE_RUN", "Can view the job and trigger, cancel and repair its runs"},
		{"CAN_MANAGE", "Can view, edit, run and delete the job and change its permissions"},
		{"IS_OWNER", "Owns the job: full control; runs use the owner's identity unless run_as is set"},
	}}, nil
}
