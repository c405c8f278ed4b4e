package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
func (s *Server) initialACL(creatorP *principal, list []map[string]any) ([]ace, *apiError) {
	creator := ace{Kind: creatorP.kind, Name: creatorP.name, Level: levelOwner}
	acl, err := parseACL([]ace{creator}, list)
	if err != nil {
		return nil, err
	}
	if err := s.checkPrincipals(acl[1:]); err != nil {
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
	if err := s.checkPrincipals(acl); err != nil {
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

// Who may do what (JobAccessControl and PrincipalsMustExist).

// checkPrincipals refuses an access control entry that names a principal
// the directory does not know, as the service does ("Principal:
// UserName(x) does not exist": TF #1415 quotes the ServicePrincipalName
// form from the permissions API; issue 14 cites cli #4488 and TF #2302;
// the RESOURCE_DOES_NOT_EXIST code is the one the SDK's ResourceDoesNotExist
// error in those reports stands for; the 404 status is assumed). Before,
// the emulator stored any name with 200, so a local apply passed that fails
// half-way on a real workspace.
func (s *Server) checkPrincipals(acl []ace) *apiError {
	if !s.on(PrincipalsMustExist) {
		return nil
	}
	for _, a := range acl {
		if !s.dir.exists(a.Kind, a.Name) {
			return &apiError{status: http.StatusNotFound, code: codeNotFound,
				msg: "Principal: " + principalWord[a.Kind] + "(" + a.Name + ") does not exist"}
		}
	}
	return nil
}

var principalWord = map[string]string{
	aclUser:             "UserName",
	aclGroup:            "GroupName",
	aclServicePrincipal: "ServicePrincipalName",
}

// Permission levels, in the order of what they allow (§3.4).
var levelRank = map[string]int{"CAN_VIEW": 1, "CAN_MANAGE_RUN": 2, "CAN_MANAGE": 3, levelOwner: 4}

// need is what an endpoint requires of the caller on the job it touches,
// and the service's words for it in a refusal.
type need struct {
	rank int
	msg  string // "User %s does not have ... permissions on job %d"
}

var (
	// [cloud] permissions/jobs/destroy_without_mgmtperms/*/out.destroy.direct.txt:3
	needView = need{1, "User %s does not have View or Admin or Manage Run or Owner permissions on job %d"}
	// The wording of run permissions is assumed to follow the two recorded ones.
	needRun = need{2, "User %s does not have Manage Run or Owner or Admin permissions on job %d"}
	// [cloud] same file:9 (jobs/delete); assumed for the other writes.
	needManage = need{3, "User %s does not have Admin or Owner permissions on job %d"}
)

// access says, per endpoint, what it needs and where the job id is:
// "job" (job_id of the request), "path" (the permissions path) or "run"
// (run_id, a job run or task run). Endpoints not listed (jobs/create,
// jobs/list, runs/submit, workspace files, SCIM) need no job permission;
// jobs/list and runs/list show only what the caller may view.
var access = map[string]struct {
	need need
	from string
}{
	"jobs/get":                          {needView, "job"},
	"jobs/reset":                        {needManage, "job"},
	"jobs/update":                       {needManage, "job"},
	"jobs/delete":                       {needManage, "job"},
	"jobs/run-now":                      {needRun, "job"},
	"jobs/runs/cancel-all":              {needRun, "job"},
	"jobs/runs/get":                     {needView, "run"},
	"jobs/runs/get-output":              {needView, "run"},
	"jobs/runs/export":                  {needView, "run"},
	"jobs/runs/cancel":                  {needRun, "run"},
	"jobs/runs/repair":                  {needRun, "run"},
	"jobs/runs/delete":                  {needRun, "run"},
	"permissions/jobs":                  {needView, "path"}, // GET; PUT and PATCH below
	"permissions/jobs/permissionLevels": {needView, "path"},
}

// authorize refuses a request whose caller lacks the permission its
// endpoint needs on the job (JobAccessControl). Workspace admins (members
// of "admins") may do anything. The check comes before the job's
// existence, as the service's does: a caller without permissions is told
// so even for a job that was deleted ([cloud]
// destroy_without_mgmtperms/without_permissions: jobs/get of a deleted job
// answers 403 to the service principal). runs/list with a job_id needs View
// on it.
func (s *Server) authorize(rq *request) *apiError {
	if !s.on(JobAccessControl) || rq.who == nil || rq.who.memberOf("admins") {
		return nil
	}
	a, ok := access[rq.endpoint]
	if rq.endpoint == "permissions/jobs" && rq.r.Method != http.MethodGet {
		a, ok = struct {
			need need
			from string
		}{needManage, "path"}, true
	}
	if rq.endpoint == "jobs/runs/list" && getInt(rq.params, "job_id") != 0 {
		a, ok = struct {
			need need
			from string
		}{needView, "job"}, true
	}
	if !ok {
		return nil
	}
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	var id int64
	switch a.from {
	case "job":
		id = getInt(rq.params, "job_id")
	case "path":
		n, err := strconv.ParseInt(rq.pathID, 10, 64)
		if err != nil {
			return nil // the handler refuses the path
		}
		id = n
	case "run":
		r, _ := st.findRun(getInt(rq.params, "run_id"))
		if r == nil || r.Type != runTypeJob {
			return nil // a missing run is the handler's answer; a submitted run is its creator's
		}
		id = r.JobID
	}
	if levelOf(rq.who, st.perms[id]) >= a.need.rank {
		return nil
	}
	return &apiError{status: http.StatusForbidden, code: codePermissionDenied, msg: fmt.Sprintf(a.need.msg, rq.who.name, id)}
}

// levelOf is the highest level p has on a job through its direct entries:
// its own, and those of the groups it belongs to ("users" holds everyone).
func levelOf(p *principal, acl []ace) int {
	best := 0
	for _, a := range acl {
		match := a.Kind == aclGroup && p.memberOf(a.Name) ||
			a.Kind == p.kind && (a.Name == p.name || a.Kind == aclUser && strings.EqualFold(a.Name, p.name))
		if match && levelRank[a.Level] > best {
			best = levelRank[a.Level]
		}
	}
	return best
}

// canViewAll: the caller sees every job (an admin, or access control off).
func (s *Server) canViewAll(rq *request) bool {
	return !s.on(JobAccessControl) || rq.who == nil || rq.who.memberOf("admins")
}

// canView says whether the caller may see job id in a listing (jobs/list,
// runs/list): the service lists only jobs the caller may view (assumed from
// the View requirement of jobs/get). The store's lock is held by the caller.
func (s *Server) canView(rq *request, id int64) bool {
	if !s.on(JobAccessControl) || rq.who == nil || rq.who.memberOf("admins") {
		return true
	}
	return levelOf(rq.who, rq.st.perms[id]) >= needView.rank
}
